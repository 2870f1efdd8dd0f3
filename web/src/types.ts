// Shapes of the API replies the pages read (see /api/openapi.json for the full descriptions).

export interface Example {
  seq_id: number;
  position: number | null;
  activation: number;
  text: string;
  token_ids: number[];
  tokens: string[];
  activations: number[];
}

export interface Score {
  scorer: string;
  value: number | null;
  provider: string;
  model: string | null;
  n_examples: number | null;
  status: string;
  error: string | null;
}

export interface Explanation {
  id: number;
  text: string;
  provider: string;
  model: string | null;
  created_at?: string;
  scores: Score[];
}

export interface LogitEffect {
  token_id: number;
  token: string;
  value: number;
}

export interface FeatureRecord {
  feature: number;
  density: number;
  fire_count?: number;
  max_activation: number;
  mean_activation?: number;
  top_examples: Example[];
  bins: { lo: number; hi: number; count: number; examples: Example[] }[];
  histogram: { edges: number[]; counts: number[] } | null;
  top_logits: LogitEffect[];
  bottom_logits: LogitEffect[];
  coactivating: { feature: number; jaccard: number; count: number }[];
  similar: { feature: number; cosine: number }[];
  top_tokens?: { token_id: number; token: string; count: number; mean_activation: number; max_activation: number }[];
  explanations: Explanation[];
  negative_examples?: Example[];
}

export interface BrowseRow {
  feature: number;
  density: number;
  max_activation: number;
  explanation: string | null;
  score: number | null;
}

export interface SearchHit {
  feature: number;
  score: number;
  evidence: string[];
  input: { token: string; score: number; mean_activation: number } | null;
  output: { token: string; score: number; logit: number; rank: number } | null;
  explanation: { text: string; score: number } | null;
  density: number;
  max_activation: number;
}

export interface InspectToken {
  token: string;
  token_id: number;
  position: number;
  features: { feature: number; activation: number }[];
}

export interface InspectResult {
  text: string;
  bos: boolean;
  tokens: InspectToken[];
}

export interface DictionarySummary {
  id: number;
  role: 'features' | 'transcoder';
  path: string;
  available: boolean;
  error?: string;
  architecture?: string;
  d_in?: number;
  d_sae?: number;
  d_out?: number;
  k?: number | null;
  hook_name?: string;
  hook_name_out?: string | null;
  model_name?: string;
}

export interface Overview {
  database: {
    path: string;
    built: boolean;
    nFeatures: number;
    identity: {
      model: { path: string; architecture: string; dModel: number; nLayers: number; vocabSize: number; sha256: string };
      tokenizer: { path: string; sha256: string };
      dictionary: { path: string; architecture: string; hookName: string; hookNameOut: string | null; dIn: number; nFeatures: number; sha256: string };
    };
    build: { status: string; dataPath: string; tokens: number; target: number; sequences: number; context: number; bos: boolean; seconds: number | null; tokensPerSecond: number | null; finishedAt: string | null } | null;
  };
  model: { config: Record<string, unknown>; parameters: number; hooks: { name: string; shape: string[] }[] } | null;
  modelError: string | null;
  /** The files the server runs (null until the model loads); they may differ from the recorded paths. */
  loaded?: { model: string; tokenizer: string; dictionary: string } | null;
  dictionaries: DictionarySummary[];
  graphs: { id: number; name: string }[];
  dynamics: { id: number; name: string }[];
  steering: boolean;
}
