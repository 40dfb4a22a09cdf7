// The glossary lives with the contract: the console and the HTML report explain a word alike.
export { STAGE_GLOSSARY, stageHelp, TERM_GLOSSARY, type Term } from '../../shared/glossary';
