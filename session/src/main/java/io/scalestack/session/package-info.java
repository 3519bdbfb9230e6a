/**
 * Servlet sessions kept in a shared store, so that web servers are stateless: {@link
 * io.scalestack.session.SessionFilter} gives applications the standard {@code HttpSession},
 * backed by a {@link io.scalestack.session.SessionRepository} such as {@link
 * io.scalestack.session.RedisSessionRepository}.
 *
 * <pre>{@code
 * RedisSessionRepository sessions = RedisSessionRepository.create("redis://127.0.0.1:16379");
 * SessionFilter filter = SessionFilter.builder().repository(sessions).build();
 * context.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
 * }</pre>
 *
 * <p>{@code io.scalestack.session.internal} is not API.
 */
package io.scalestack.session;
