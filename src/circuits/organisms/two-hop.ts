// The two-hop world: people live in cities, cities are in countries, and a question asks for a person's
// country. Which city a person lives in changes from document to document (it is stated in the document),
// while which country a city is in never changes (the model must learn it). So the answer needs the
// intermediate entity, the city: first hop in context (person -> city, a lookup among the document's facts),
// second hop from the weights (city -> country). No shortcut from person to country exists.
//
//   facts: mia osaka. leo paris. ava cairo. questions: country of leo france. city of ava cairo. country of
//   mia japan. country of rome italy.
//
// Each fact puts the city right after the person and each question ends with the name it asks about, so
// the first hop is the lookup an induction head does (find the earlier occurrence of the name, read what
// followed it): small models learn it in a few hundred steps, where offsets of several tokens ("leo
// lives in paris") took thousands. Questions about a city ("country of rome") teach the second hop alone,
// questions about a person's city the first hop alone.
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
  /** The document up to the answer (the prompt to trace): "facts: ... questions: country of leo". */
  prompt: string;
  /** " france": the answer as it follows the prompt. */
  answer: string;
  person: string;
  city: string;
  country: string;
  /** Every (person, city) fact of the document, in order. */
  facts: [string, string][];
}

/** One document's facts and its first question, about a person's country. `city` forces that person's city. */
export function twoHopQuestion(rng: Rng, o: { facts?: number; city?: string } = {}): TwoHopQuestion {
  const n = o.facts ?? 2 + rng.int(3);
  const people = shuffle(rng, [...PEOPLE]).slice(0, n);
  const cities = shuffle(rng, CITIES.filter((c) => c !== o.city)).slice(0, n);
  const q = rng.int(n);
  if (o.city) cities[q] = o.city;
  const facts = people.map((p, i) => [p, cities[i]!] as [string, string]);
  const [person, city] = facts[q]!;
  const country = CITY_COUNTRY[city]!;
  return { prompt: `facts: ${factText(facts)} questions: country of ${person}`, answer: ` ${country}`, person, city, country, facts };
}

/** "mia osaka. leo paris." */
export function factText(facts: readonly [string, string][]): string {
  return facts.map(([p, c]) => `${p} ${c}.`).join(' ');
}

/**
 * The corpus: one document per line of JSONL ({"text": ...}). A document states its facts, then asks about
 * every person it named, in a new order: the country (two hops) or, a third of the time, the city (the
 * first hop alone); half the documents also ask for a city's country (the second hop alone).
 */
export function twoHopCorpus(documents: number, seed = 0): string[] {
  const rng = new Rng(seed);
  const docs: string[] = [];
  for (let i = 0; i < documents; i++) {
    const q = twoHopQuestion(rng);
    const asks = shuffle(rng, q.facts.slice()).map(([p, c]) => (rng.uniform() < 1 / 3 ? `city of ${p} ${c}.` : `country of ${p} ${CITY_COUNTRY[c]}.`));
    if (rng.uniform() < 0.5) {
      const c = CITIES[rng.int(CITIES.length)]!;
      asks.splice(rng.int(asks.length + 1), 0, `country of ${c} ${CITY_COUNTRY[c]}.`);
    }
    docs.push(`facts: ${factText(q.facts)} questions: ${asks.join(' ')}`);
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
