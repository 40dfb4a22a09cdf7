import { TERM_GLOSSARY, type Term as TermName } from '../glossary';

/** A word of the lab's jargon with its one-line explanation as a tooltip (dotted underline). */
export function Term({ name, children }: { name: TermName; children?: React.ReactNode }): React.JSX.Element {
  return (
    <span className="term" title={TERM_GLOSSARY[name]}>
      {children ?? name}
    </span>
  );
}
