// The feature database: one file describes one dictionary (SAE or transcoder) of one model, the corpus
// sample it was studied on, and everything learnt about its features. Tables are plain (no foreign keys,
// no primary keys on the bulk tables: DuckDB checks those eagerly and a delete-then-insert rebuild inside
// one transaction would trip them); the store code keeps them consistent.
//
// Conventions: `feature` is the latent index in [0, n_features); a sequence's `token_ids` are exactly
// what the model saw (BOS first when the build's bos_policy is "bos"); `position` indexes token_ids;
// per-token `activations` lists align with token_ids.

export const SCHEMA_VERSION = 1;

export function schemaStatements(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,

    // The model and dictionary, with content hashes so a later command can refuse a mismatched file.
    `CREATE TABLE IF NOT EXISTS models (
      id INTEGER, path VARCHAR, sha256 VARCHAR, tokenizer_path VARCHAR, tokenizer_sha256 VARCHAR,
      architecture VARCHAR, d_model INTEGER, n_layers INTEGER, vocab_size INTEGER, created_at TIMESTAMP)`,
    `CREATE TABLE IF NOT EXISTS dictionaries (
      id INTEGER, model_id INTEGER, path VARCHAR, sha256 VARCHAR, architecture VARCHAR, hook_name VARCHAR,
      hook_name_out VARCHAR, d_in INTEGER, n_features INTEGER, created_at TIMESTAMP)`,

    // One row per build; params is the JSON of every setting that changes the result.
    `CREATE TABLE IF NOT EXISTS builds (
      id INTEGER, dictionary_id INTEGER, data_path VARCHAR, data_sha256 VARCHAR, params VARCHAR,
      status VARCHAR, tokens_target BIGINT, tokens_done BIGINT, sequences_done INTEGER,
      seconds DOUBLE, tokens_per_second DOUBLE, started_at TIMESTAMP, finished_at TIMESTAMP)`,
    // The streaming statistics as of the last checkpoint (deflated), replaced in the same transaction
    // as the sequences processed since: a killed build resumes from here and loses nothing committed.
    `CREATE TABLE IF NOT EXISTS build_checkpoints (
      build_id INTEGER, sequences_done INTEGER, tokens_done BIGINT, state BLOB, updated_at TIMESTAMP)`,

    // The corpus sample as the model saw it. `text` is the example text inspect reproduces:
    // decode(token_ids without the leading BOS); encode(text, bos) gives token_ids back exactly.
    `CREATE TABLE IF NOT EXISTS sequences (seq_id INTEGER, token_ids INTEGER[], text VARCHAR)`,
    // The vocabulary as shown: `piece` the raw vocabulary entry, `text` what it adds mid-text,
    // `text_first` what it adds as the first token of a text (e.g. without a leading space).
    `CREATE TABLE IF NOT EXISTS vocab (token_id INTEGER, piece VARCHAR, text VARCHAR, text_first VARCHAR)`,
    // How often each token occurs in the sample (statistics positions only: BOS excluded).
    `CREATE TABLE IF NOT EXISTS token_counts (token_id INTEGER, count BIGINT)`,

    // Per-feature statistics. density = fire_count / tokens; histogram of the non-zero activations.
    `CREATE TABLE IF NOT EXISTS features (
      feature INTEGER, fire_count BIGINT, density DOUBLE, max_activation FLOAT, mean_activation FLOAT,
      histogram_edges FLOAT[], histogram_counts BIGINT[])`,
    // Activation-range bins: [lo, hi) with the number of token activations inside.
    `CREATE TABLE IF NOT EXISTS bins (feature INTEGER, bin INTEGER, lo FLOAT, hi FLOAT, count BIGINT)`,
    // kind: 'top' (rank 0 = strongest), 'bin' (sampled within bin `bin`), 'negative' (the feature never
    // fires in the sequence; activations all zero). activation = the value at `position`.
    `CREATE TABLE IF NOT EXISTS examples (
      feature INTEGER, kind VARCHAR, bin INTEGER, rank INTEGER, seq_id INTEGER, position INTEGER,
      activation FLOAT, activations FLOAT[])`,
    // Direct logit effects of the decoder direction: kind 'top' (promoted) or 'bottom' (suppressed).
    `CREATE TABLE IF NOT EXISTS logits (feature INTEGER, kind VARCHAR, rank INTEGER, token_id INTEGER, value FLOAT)`,
    // kind 'coactivation' (value = Jaccard index of firing tokens, count = tokens both fire on) or
    // 'similarity' (value = cosine of decoder directions).
    `CREATE TABLE IF NOT EXISTS neighbors (feature INTEGER, kind VARCHAR, rank INTEGER, other INTEGER, value FLOAT, count BIGINT)`,
    // Input evidence for search: the tokens each feature fires on most (by summed activation).
    `CREATE TABLE IF NOT EXISTS feature_tokens (feature INTEGER, token_id INTEGER, count BIGINT, sum_activation DOUBLE, max_activation FLOAT)`,

    // Explanations and their scores. status 'ok' or 'failed' (error says why); failures are kept so a
    // run can report them and a retry can skip what succeeded.
    `CREATE SEQUENCE IF NOT EXISTS explanation_ids START 1`,
    `CREATE TABLE IF NOT EXISTS explanations (
      id INTEGER DEFAULT nextval('explanation_ids'), feature INTEGER, provider VARCHAR, model VARCHAR,
      text VARCHAR, status VARCHAR, error VARCHAR, prompt_tokens INTEGER, completion_tokens INTEGER,
      created_at TIMESTAMP DEFAULT current_timestamp)`,
    `CREATE SEQUENCE IF NOT EXISTS score_ids START 1`,
    `CREATE TABLE IF NOT EXISTS scores (
      id INTEGER DEFAULT nextval('score_ids'), feature INTEGER, explanation_id INTEGER, scorer VARCHAR,
      provider VARCHAR, model VARCHAR, value DOUBLE, n_examples INTEGER, details VARCHAR, status VARCHAR,
      error VARCHAR, prompt_tokens INTEGER, completion_tokens INTEGER, created_at TIMESTAMP DEFAULT current_timestamp)`,
  ];
}

/** Tables holding a build's results (cleared together when a build is redone). */
export const RESULT_TABLES = ['features', 'bins', 'examples', 'logits', 'neighbors', 'feature_tokens', 'token_counts'] as const;

/** Every table, in the order an export writes them. */
export const ALL_TABLES = [
  'meta',
  'models',
  'dictionaries',
  'builds',
  'sequences',
  'vocab',
  'token_counts',
  'features',
  'bins',
  'examples',
  'logits',
  'neighbors',
  'feature_tokens',
  'explanations',
  'scores',
] as const;
