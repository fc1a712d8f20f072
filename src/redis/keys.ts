/**
 * The Redis key layout of `syncwire/redis`. Every key starts with the deployment's prefix (default
 * `syncwire:`), then a namespace, then a Cluster hash tag:
 *
 *   PREFIX dedupe:{U}:<client_msg_id>      string "server_msg_id:server_time_ms", TTL = dedupe TTL
 *   PREFIX ids:{C}                         integer, INCR per server_msg_id of conversation C
 *   PREFIX log:{U}:h                       hash   stream key → newest version
 *   PREFIX log:{U}:m                       hash   "pos" (append counter), "live" (entries held), "cseq" (commit counter), "b" (trim blocked)
 *   PREFIX log:{U}:e:<stream key>          zset   score version, member "<pos>:<len>:<idempotency key><MessagePacket bytes>"
 *   PREFIX log:{U}:i                       hash   idempotency key → version (live entries, and trimmed ones still remembered)
 *   PREFIX log:{U}:tq                      zset   idempotency keys of trimmed entries, by when they may be forgotten
 *   PREFIX log:{U}:c / :cd                 hash device → committed key "k=v,…"; zset device → commit order
 *   PREFIX up:{U}                          zset   upload id → last part's time (the open uploads)
 *   PREFIX up:{U}:<upload id>              hash   facts, "#<index>" → part bytes, "oid" once complete; TTL = idle time
 *   PREFIX obj:{<object id>}               string the object's facts (JSON); its bytes are in the blob store
 *   PREFIX notify:{U}                      pub/sub channel (sharded where available)
 *
 * `{U}` is `{<length>:<user>}` — the user (or conversation) with its length in front, so that no two names
 * give the same key whatever characters they hold (like `pairKey`). Redis Cluster hashes only what is
 * between the first `{` and the next `}`, so all of one user's keys (dedupe records, log, uploads,
 * channel) share one slot and every script touches a single slot. A name containing `}` still maps all
 * its keys to one slot (the tag just ends early), only the spread across slots is less even.
 */

/** Builds the key names of one deployment. Never throws. */
export class RedisKeys {
  /** Prepended to every key and channel. */
  readonly prefix: string;

  /** @param prefix prepended to every key and channel (any string; "" allowed). */
  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** The hash tag of a user, owner or conversation name: `{<length>:<name>}`. */
  static tag(name: string): string {
    return `{${name.length}:${name}}`;
  }

  /** The dedupe record of (sender, client_msg_id). */
  dedupe(sender: string, clientMsgId: bigint): string {
    return `${this.prefix}dedupe:${RedisKeys.tag(sender)}:${clientMsgId}`;
  }

  /** The server_msg_id counter of a conversation. */
  ids(conversationId: string): string {
    return `${this.prefix}ids:${RedisKeys.tag(conversationId)}`;
  }

  /** The common start of one user's log keys (the scripts append `h`, `e:<k>`, …). */
  log(user: string): string {
    return `${this.prefix}log:${RedisKeys.tag(user)}:`;
  }

  /** The sorted set of an owner's open uploads. */
  openUploads(owner: string): string {
    return `${this.prefix}up:${RedisKeys.tag(owner)}`;
  }

  /** One upload's hash (facts and parts). */
  upload(owner: string, uploadId: string): string {
    return `${this.prefix}up:${RedisKeys.tag(owner)}:${uploadId}`;
  }

  /** A finished object's facts. */
  object(objectId: string): string {
    return `${this.prefix}obj:{${objectId}}`;
  }

  /** The pub/sub channel of a user's NOTIFY fan-out. */
  notify(user: string): string {
    return `${this.prefix}notify:${RedisKeys.tag(user)}`;
  }
}
