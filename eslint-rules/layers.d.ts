/** A folder of src/ (or one file), where its code runs, and what it may import. */
export interface Layer {
  readonly folder: string;
  readonly runs: string;
  readonly imports: readonly string[];
  readonly types?: readonly string[];
  readonly what: string;
}
export declare const LAYERS: readonly Layer[];
export declare const EXCEPTIONS: readonly { readonly from: string; readonly to: string; readonly why: string }[];
