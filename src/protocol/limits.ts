// Every bound the wire protocol enforces, in one place: what a peer may send and what we buffer.

/** Two ends speak when their versions are equal; a method is asked only of a far side whose minor is at least the method's (messages.ts). */
export const PROTOCOL_VERSION = 3;
/** Raised when a method is added (with that minor in the message table), never for a change to one. */
export const PROTOCOL_MINOR = 0;

/** Largest frame accepted or sent (refused from the 4-byte header, before any allocation). */
export const MAX_FRAME = 16 * 1024 * 1024;
/** Whole message bodies above this travel as a stream of chunks of at most this size. */
export const MAX_INLINE_BODY = 1024 * 1024;
/** Bytes of inline bodies in one `read` answer or one `deliver` request. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Entries in one list (GUIDs, deltas, manifest page, folders). */
export const MAX_LIST = 100_000;
/** Manifest entries per page; a folder of any size pages through these. */
export const MANIFEST_PAGE = 20_000;
/** GUIDs per hash or expunge request, deltas per setFlags request. */
export const REQUEST_ITEMS = 10_000;
export const MAX_GUID = 255;
export const MAX_FOLDER = 1024;
export const MAX_KEYWORD = 255;
export const MAX_KEYWORDS = 256;
export const MAX_TEXT = 4096;
/** A message size no Maildir holds (1 TiB): a larger announced size is a hostile peer. */
export const MAX_MESSAGE = 2 ** 40;
/** Requests one side handles at once; beyond it the reader stops reading. */
export const MAX_IN_FLIGHT = 64;
/** Large-body streams (reads and uploads) open at once on the serving side. */
export const MAX_STREAMS = 16;
/** Chunk requests kept in flight per large body, each way. */
export const STREAM_WINDOW = 4;
/** Default for `--timeout`: seconds without a byte from a peer that owes an answer. */
export const DEFAULT_TIMEOUT_S = 300;
