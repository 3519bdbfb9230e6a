package io.scalestack.session;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A web application using nothing but the standard Servlet session API, as the photo service does. */
final class TestApp extends HttpServlet {

  private static final long serialVersionUID = 1L;

  /** Requests to /concurrent meet here after loading the session and before changing it. */
  static volatile CyclicBarrier barrier;

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
    response.setContentType("text/plain;charset=utf-8");
    String path = request.getPathInfo() == null ? request.getServletPath() : request.getServletPath() + request.getPathInfo();
    switch (request.getMethod() + " " + path) {
      case "POST /login" -> {
        HttpSession session = request.getSession();
        request.changeSessionId();
        session.setAttribute("user", request.getParameter("user"));
        response.getWriter().print(session.getId());
      }
      case "GET /me" -> {
        HttpSession session = request.getSession(false);
        if (session == null || session.getAttribute("user") == null) {
          response.setStatus(401);
          response.getWriter().print("no session");
        } else {
          response.getWriter().print(session.getAttribute("user"));
        }
      }
      case "POST /logout" -> {
        HttpSession session = request.getSession(false);
        if (session == null) {
          response.setStatus(401);
        } else {
          session.invalidate();
          response.setStatus(204);
        }
      }
      case "POST /set" -> {
        HttpSession session = request.getSession();
        String name = request.getParameter("name");
        String value = request.getParameter("value");
        Object typed = switch (request.getParameter("type")) {
          case "string" -> value;
          case "long" -> Long.parseLong(value);
          case "int" -> Integer.parseInt(value);
          case "boolean" -> Boolean.parseBoolean(value);
          case "null" -> null;
          default -> throw new IllegalArgumentException("type: " + request.getParameter("type"));
        };
        session.setAttribute(name, typed);
        response.getWriter().print(session.getId());
      }
      case "POST /remove" -> {
        request.getSession().removeAttribute(request.getParameter("name"));
        response.setStatus(204);
      }
      case "GET /get" -> {
        HttpSession session = request.getSession(false);
        Object value = session == null ? null : session.getAttribute(request.getParameter("name"));
        if (value == null) {
          response.setStatus(404);
        } else {
          response.getWriter().print(value.getClass().getSimpleName() + ":" + value);
        }
      }
      case "GET /names" -> {
        HttpSession session = request.getSession(false);
        List<String> names = session == null ? List.of() : new ArrayList<>(Collections.list(session.getAttributeNames()));
        response.getWriter().print(String.join(",", names.stream().sorted().toList()));
      }
      case "POST /unsupported" -> {
        try {
          request.getSession().setAttribute("cart", new java.util.Date(0));
          response.getWriter().print("accepted");
        } catch (IllegalArgumentException e) {
          response.setStatus(400);
          response.getWriter().print(e.getMessage());
        }
      }
      case "GET /public" -> response.getWriter().print("no session needed");
      case "POST /cart-add" -> {
        // changed in place, never set again: the filter must notice by itself
        HttpSession session = request.getSession();
        @SuppressWarnings("unchecked")
        List<Object> cart = (List<Object>) session.getAttribute("cart");
        if (cart == null) {
          session.setAttribute("cart", new ArrayList<>(List.of(request.getParameter("item"))));
        } else {
          cart.add(request.getParameter("item"));
        }
        response.setStatus(204);
      }
      case "GET /cart" -> {
        HttpSession session = request.getSession(false);
        response.getWriter().print(session == null ? "none" : String.valueOf(session.getAttribute("cart")));
      }
      case "POST /login-as" -> {
        // a login that names the session's user, for "log out everywhere"
        HttpSession session = request.getSession();
        request.changeSessionId();
        session.setAttribute("user", request.getParameter("user"));
        session.setAttribute(SessionRepository.PRINCIPAL_ATTRIBUTE, request.getParameter("user"));
        response.getWriter().print(session.getId());
      }
      case "POST /rotate" -> response.getWriter().print(request.changeSessionId());
      case "GET /id" -> {
        HttpSession session = request.getSession(false);
        response.getWriter().print(session == null ? "none" : session.getId());
      }
      case "GET /requested" -> response.getWriter().print(request.getRequestedSessionId() + "," + request.isRequestedSessionIdValid());
      case "POST /concurrent" -> {
        HttpSession session = request.getSession(false);
        if (session == null) {
          response.setStatus(401);
          return;
        }
        try {
          barrier.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
          response.sendError(500, "barrier: " + e);
          return;
        }
        session.setAttribute(request.getParameter("name"), request.getParameter("value"));
        response.setStatus(204);
      }
      case "GET /big" -> {
        // A body far larger than the response buffer: the container commits the response mid-write.
        request.getSession().setAttribute("big", "yes");
        byte[] chunk = new byte[8192];
        int bytes = Integer.parseInt(request.getParameter("bytes"));
        OutputStream out = response.getOutputStream();
        for (int written = 0; written < bytes; written += chunk.length) {
          out.write(chunk, 0, Math.min(chunk.length, bytes - written));
        }
      }
      case "POST /flush-then-create" -> {
        response.getWriter().print("early bytes");
        response.flushBuffer();
        try {
          request.getSession();
          response.getWriter().print(", created");
        } catch (IllegalStateException e) {
          response.getWriter().print(", " + e.getMessage());
        }
      }
      default -> response.setStatus(404);
    }
  }
}
