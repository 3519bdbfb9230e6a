package io.scalestack.app.internal;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The outermost Jetty handler: stamps every response with {@code X-Served-By: <member>}, so a
 * person can watch the balancer spread requests, and with {@code X-Content-Type-Options: nosniff}.
 * It runs before the servlet layer, so responses Jetty itself generates carry the stamp too.
 *
 * <p>Immutable, thread-safe.
 */
final class ServedByHandler extends Handler.Wrapper {

  /** The response header naming the member that answered. */
  static final String HEADER = "X-Served-By";

  private static final HttpField NOSNIFF =
      new PreEncodedHttpField("X-Content-Type-Options", "nosniff");

  private final HttpField servedBy;

  ServedByHandler(String member, Handler next) {
    super(next);
    this.servedBy = new PreEncodedHttpField(HEADER, member);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    response.getHeaders().put(servedBy);
    response.getHeaders().put(NOSNIFF);
    return super.handle(request, response, callback);
  }
}
