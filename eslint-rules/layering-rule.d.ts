import type { Rule } from 'eslint';
import type { Layer } from './layers.js';
export declare function layerOf(path: string): Layer | undefined;
export declare const layersRule: Rule.RuleModule;
