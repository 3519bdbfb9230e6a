package io.scalestack.session.internal;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * The response the application sees: before anything that may commit it (a body write, which
 * may overflow the buffer; a flush; an error; a redirect) it lets {@link RequestSessions} save
 * pending session changes and add the session cookie, which cannot be sent later.
 *
 * <p>A write costs one volatile read when nothing is pending.
 *
 * <p>As thread-safe as the wrapped response.
 */
final class SessionResponse extends HttpServletResponseWrapper {

  private final RequestSessions sessions;
  private ServletOutputStream outputStream;
  private PrintWriter writer;

  SessionResponse(HttpServletResponse response, RequestSessions sessions) {
    super(response);
    this.sessions = sessions;
  }

  @Override
  public ServletOutputStream getOutputStream() throws IOException {
    if (outputStream == null) {
      outputStream = new CommittingOutputStream(super.getOutputStream(), sessions);
    }
    return outputStream;
  }

  @Override
  public PrintWriter getWriter() throws IOException {
    if (writer == null) {
      writer = new CommittingWriter(super.getWriter(), sessions);
    }
    return writer;
  }

  @Override
  public void flushBuffer() throws IOException {
    sessions.beforeCommit();
    super.flushBuffer();
  }

  @Override
  public void sendError(int status, String message) throws IOException {
    sessions.beforeCommit();
    super.sendError(status, message);
  }

  @Override
  public void sendError(int status) throws IOException {
    sessions.beforeCommit();
    super.sendError(status);
  }

  @Override
  public void sendRedirect(String location) throws IOException {
    sessions.beforeCommit();
    super.sendRedirect(location);
  }

  @Override
  public void reset() {
    super.reset();
    sessions.afterReset();
  }

  private static final class CommittingOutputStream extends ServletOutputStream {

    private final ServletOutputStream delegate;
    private final RequestSessions sessions;

    CommittingOutputStream(ServletOutputStream delegate, RequestSessions sessions) {
      this.delegate = delegate;
      this.sessions = sessions;
    }

    @Override
    public void write(int b) throws IOException {
      sessions.beforeCommit();
      delegate.write(b);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      sessions.beforeCommit();
      delegate.write(bytes, offset, length);
    }

    @Override
    public void flush() throws IOException {
      sessions.beforeCommit();
      delegate.flush();
    }

    @Override
    public void close() throws IOException {
      sessions.beforeCommit();
      delegate.close();
    }

    @Override
    public boolean isReady() {
      return delegate.isReady();
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      delegate.setWriteListener(listener);
    }
  }

  /*
   * print, println and format all end in these three writes; PrintWriter.checkError() asks the
   * wrapped PrintWriter, so errors are not hidden.
   */
  private static final class CommittingWriter extends PrintWriter {

    private final RequestSessions sessions;

    CommittingWriter(PrintWriter delegate, RequestSessions sessions) {
      super(delegate, false);
      this.sessions = sessions;
    }

    @Override
    public void write(int c) {
      sessions.beforeCommit();
      super.write(c);
    }

    @Override
    public void write(char[] chars, int offset, int length) {
      sessions.beforeCommit();
      super.write(chars, offset, length);
    }

    @Override
    public void write(String text, int offset, int length) {
      sessions.beforeCommit();
      super.write(text, offset, length);
    }

    @Override
    public void flush() {
      sessions.beforeCommit();
      super.flush();
    }

    @Override
    public void close() {
      sessions.beforeCommit();
      super.close();
    }
  }
}
