// One line per command module. Each module exports `register(program)`.
import type { Command } from 'commander';
import { register as attribute } from './attribute.js';
import { register as bench } from './bench.js';
import { register as demo } from './demo.js';
import { register as dynamics } from './dynamics.js';
import { register as features } from './features.js';
import { register as generate } from './generate.js';
import { register as grow } from './grow.js';
import { register as heads } from './heads.js';
import { register as hooks } from './hooks.js';
import { register as intervene } from './intervene.js';
import { register as logits } from './logits.js';
import { register as loss } from './loss.js';
import { register as organisms } from './organisms.js';
import { register as organismsTwoHop } from './organisms-two-hop.js';
import { register as patch } from './patch.js';
import { register as sae } from './sae.js';
import { register as serve } from './serve.js';
import { register as steer } from './steer.js';
import { register as tokenize } from './tokenize.js';
import { register as transcoders } from './transcoders.js';

export function registerAll(program: Command): void {
  attribute(program);
  bench(program);
  demo(program);
  dynamics(program);
  features(program);
  generate(program);
  grow(program);
  heads(program);
  hooks(program);
  intervene(program);
  logits(program);
  loss(program);
  organisms(program);
  organismsTwoHop(program); // adds `organisms two-hop`: after organisms
  patch(program);
  sae(program);
  serve(program);
  steer(program);
  tokenize(program);
  transcoders(program);
}
