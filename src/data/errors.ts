/** A problem with a data file or data set that the user can fix; the message says how. */
export class DataError extends Error {
  override name = 'DataError';
}
