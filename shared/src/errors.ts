/**
 * Error codes shared by the HTTP API and the socket protocol. Every failure that crosses a
 * boundary carries one of these codes, so clients can branch on it without parsing messages.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 'the message or body is malformed or fails validation',
  UNAUTHORIZED: 'no valid bearer token was sent',
  FORBIDDEN: 'the token is valid but its role may not do this',
  NOT_FOUND: 'the named job, version, model, shard or blob does not exist',
  INVALID_MODEL_SPEC: 'the model spec is not a TF.js layers model that can be built',
  UNKNOWN_DATASET: 'the job names a dataset the coordinator does not have',
  PAYLOAD_TOO_LARGE: 'the body or update is larger than the coordinator accepts',
  PROTOCOL_MISMATCH: 'the client speaks another protocol version',
  NOT_JOINED: 'the socket sent work messages before contributor:join',
  LEASE_UNKNOWN: 'the lease does not exist, belongs to another contributor, or was already used',
  LEASE_EXPIRED: 'the lease passed its deadline and its unit went to someone else',
  STALE_VERSION:
    'the update was computed from a version that is no longer the base of its round (buffered jobs: more versions old than the staleness bound)',
  WRONG_SHAPE: 'the update does not have the number of values the model has',
  NON_FINITE: 'the update holds NaN or Infinity',
  NORM_TOO_LARGE: 'the update norm is above the job bound',
  UNDECODABLE_UPDATE:
    "the update payload does not decode with the job's codec (truncated, malformed or another codec)",
  CHECKSUM_MISMATCH: 'the update payload does not match the checksum in its meta (corrupted on the way)',
  UPLOAD_UNKNOWN: 'the submit names a chunked upload this contributor has not started, or it expired',
  CHUNK_MISSING: 'the submit names a chunked upload that still lacks pieces (listed in the message)',
  CHUNK_DUPLICATE: 'this piece of the chunked upload was already received',
  JOB_NOT_RUNNING: 'the job is paused, cancelled or finished',
  CONTRIBUTOR_BANNED: 'an admin banned this contributor: it may not join until unbanned',
  DATASET_MISSING: 'the dataset files are not on this machine',
  DATASET_MODEL_MISMATCH:
    "the model's input shape or output units do not fit the dataset version's schema (both are in the message)",
  DATASET_IN_USE: 'the dataset version trained a job or model version and cannot be deleted',
  UNSUPPORTED_MEDIA_TYPE: 'the request body has a content type this route does not take',
  INVALID_FORMAT: 'the file does not parse as the format named (corrupt, truncated, not UTF-8, wrong magic)',
  UNKNOWN_COLUMN: 'the label (or another named) column is not in the file header',
  RAGGED_ROW: 'a row has more or fewer values than the header (or its first row) has columns',
  NON_NUMERIC: 'a numeric column holds a value that is not a number (the place is in the message)',
  NON_FINITE_VALUE: 'a value is NaN or Infinity (the place is in the message)',
  MISSING_VALUE: 'a value is missing and the missing-value policy is refuse',
  MISSING_LABEL: 'every row lacks a label, or the label array is absent',
  SINGLE_CLASS: 'the label column has one class: nothing to learn',
  UNSAFE_ARCHIVE_PATH: 'an archive entry has an absolute path or `..`',
  ARCHIVE_TOO_LARGE: 'the archive expands past the size or ratio cap (a zip bomb)',
  UNDECODABLE_IMAGE: 'an image in the archive fails to decode',
  INCONSISTENT_SAMPLES: 'samples differ in shape or channels, or inputs and labels differ in count',
  EMPTY_DATASET: 'the file holds no usable rows (or no training or test rows after the split)',
  STORAGE_QUOTA: "the coordinator's storage quota would be exceeded",
  VERSION_PRUNED:
    "retention pruned the version's weights: its record and lineage remain, it cannot be loaded or aliased",
  CONFLICT: 'the name is taken, or the current state does not allow the change (nothing to roll back to)',
  WEIGHTS_MISMATCH: 'the weights do not match their content hash or the model size (tampered or truncated)',
  INPUT_MISMATCH: 'the input does not fit the model input shape, or the model does not fit the app',
  QUARANTINED: 'this contributor failed spot-checks: it gets no units and its updates are refused',
  INVALID_SEARCH_SPACE:
    'the sweep search space is empty or unbounded (min >= max, a non-finite bound, no choices, a grid over a range without a step) or gives invalid jobs',
  UNKNOWN_PARAMETER: 'a sweep parameter names a path the job spec does not have',
  INVALID_BUDGET:
    'the sweep or job budget is zero, negative, non-finite, empty or contradictory (random search needs maxTrials; cost needs a price table)',
  UNKNOWN_METRIC:
    "the sweep metric is not one the job's task reports (testAccuracy, testLoss, testR2, testMae, testRmse)",
  RATE_LIMITED: 'too many messages from this socket or client in a short time; send fewer, later',
  TOO_MANY_SUBSCRIPTIONS: 'this socket already holds the most alias subscriptions one socket may',
  BUSY: 'the coordinator is building as many models as it may at once; retry after Retry-After seconds',
  INTERNAL: 'the coordinator failed; the request may be retried',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Acknowledgements never throw across the socket: they carry a result. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };

export const ok = <T>(data: T): Result<T> => ({ ok: true, data });

export const fail = (code: ErrorCode, message?: string): { ok: false; error: ErrorBody } => ({
  ok: false,
  error: { code, message: message ?? ERROR_CODES[code] },
});

/** The one error type the coordinator throws internally; boundaries turn it into an ErrorBody. */
export class GridTabError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
  ) {
    super(message ?? ERROR_CODES[code]);
    this.name = 'GridTabError';
  }
}
