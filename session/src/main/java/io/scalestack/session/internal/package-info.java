/**
 * Not API: the machinery behind {@link io.scalestack.session.SessionFilter} and {@link
 * io.scalestack.session.RedisSessionRepository} (request and response wrappers, cookie format,
 * ids, attribute encoding, Lua scripts). May change without notice.
 */
package io.scalestack.session.internal;
