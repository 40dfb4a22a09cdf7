// One way to write an alert's value: shared with the saved alert's message and the HTML export.
export { formatAlertValue } from '../../../shared/format-alert-value';
