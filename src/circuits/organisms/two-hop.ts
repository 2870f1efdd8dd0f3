// The two-hop world: people live in cities, cities are in countries, and a question asks for a person's
// country. Which city a person lives in changes from document to document (it is stated in the document),
// while which country a city is in never changes (the model must learn it). So the answer needs the
// intermediate entity, the city: first hop in context (person -> city, a lookup among the document's facts),
// second hop from the weights (city -> country). No shortcut from person to country exists.
//
//   facts: mia lives in osaka. leo lives in paris. ava lives in cairo. leo is in france. ava lives in
//   cairo. mia is in japan.
//
// Two cities per country, so a city is not just a name for its country: swapping the intermediate city
// for one in another country must move the answer to that country.
import { Rng } from '../../tensor/index.js';

export const PEOPLE = [
  'ava', 'ben', 'cara', 'dan', 'eve', 'finn', 'gia', 'hugo', 'ida', 'jack', 'kim', 'leo',
  'mia', 'noah', 'olga', 'paul', 'rosa', 'sam', 'tara', 'umar', 'vera', 'will', 'yara', 'zoe',
] as const;

export const CITY_COUNTRY: Readonly<Record<string, string>> = {
  paris: 'france', lyon: 'france',
  tokyo: 'japan', osaka: 'japan',
  rome: 'italy', milan: 'italy',
  berlin: 'germany', munich: 'germany',
  madrid: 'spain', seville: 'spain',
  cairo: 'egypt', luxor: 'egypt',
};
export const CITIES = Object.keys(CITY_COUNTRY);
export const COUNTRIES = [...new Set(Object.values(CITY_COUNTRY))];

export interface TwoHopQuestion {
  /** The document up to the answer (the prompt to trace): "facts: ... leo is in". */
  prompt: string;
  /** " france": the answer as it follows the prompt. */
  answer: string;
  person: string;
  city: string;
  country: string;
  /** Every (person, city) fact of the document, in order. */
  facts: [string, string][];
}

/** One document's facts and question. `city` forces the queried person's city (for controlled pairs). */
export function twoHopQuestion(rng: Rng, o: { facts?: number; city?: string; cityFact?: boolean } = {}): TwoHopQuestion {
  const n = o.facts ?? 2 + rng.int(3);
  const people = shuffle(rng, [...PEOPLE]).slice(0, n);
  const cities = shuffle(rng, CITIES.filter((c) => c !== o.city)).slice(0, n);
  const q = rng.int(n);
  if (o.city) cities[q] = o.city;
  const facts = people.map((p, i) => [p, cities[i]!] as [string, string]);
  const parts = facts.map(([p, c]) => `${p} lives in ${c}.`);
  if (o.cityFact) {
    const c = CITIES[rng.int(CITIES.length)]!;
    parts.splice(rng.int(parts.length + 1), 0, `${c} is in ${CITY_COUNTRY[c]}.`);
  }
  const [person, city] = facts[q]!;
  const country = CITY_COUNTRY[city]!;
  return { prompt: `facts: ${parts.join(' ')} ${person} is in`, answer: ` ${country}`, person, city, country, facts };
}

/**
 * The corpus: one document per line of JSONL ({"text": ...}). A document states its facts, then asks
 * about every person it named, in a new order: the country (two hops) or, half the time, the city again
 * (the first hop alone, which teaches the lookup with a direct signal). Half the documents also state a
 * city's country.
 */
export function twoHopCorpus(documents: number, seed = 0): string[] {
  const rng = new Rng(seed);
  const docs: string[] = [];
  for (let i = 0; i < documents; i++) {
    const q = twoHopQuestion(rng, { cityFact: rng.uniform() < 0.5 });
    const head = q.prompt.slice(0, q.prompt.lastIndexOf(`${q.person} is in`));
    const asks = shuffle(rng, q.facts.slice()).map(([p, c]) => (rng.uniform() < 0.5 ? `${p} lives in ${c}.` : `${p} is in ${CITY_COUNTRY[c]}.`));
    docs.push(`${head}${asks.join(' ')}`);
  }
  return docs;
}

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
