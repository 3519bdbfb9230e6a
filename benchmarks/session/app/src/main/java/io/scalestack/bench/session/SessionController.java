package io.scalestack.bench.session;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The endpoints both stores serve, through the plain Servlet {@link HttpSession} API only. */
@RestController
class SessionController {

  /** A new session under a fresh id (session fixation defence), holding the user's name. */
  @PostMapping("/login")
  String login(HttpServletRequest request, @RequestParam("user") String user) {
    HttpSession session = request.getSession();
    request.changeSessionId();
    session.setAttribute("user", user);
    return user;
  }

  /** Reads the session: 200 with the user's name, 401 without a session. */
  @GetMapping("/me")
  ResponseEntity<String> me(HttpServletRequest request) {
    HttpSession session = request.getSession(false);
    Object user = session == null ? null : session.getAttribute("user");
    return user == null ? ResponseEntity.status(401).body("no session") : ResponseEntity.ok(user.toString());
  }

  /** Reads the session and changes one attribute: 200, or 401 without a session. */
  @PostMapping("/cart")
  ResponseEntity<String> cart(HttpServletRequest request, @RequestParam("item") String item) {
    HttpSession session = request.getSession(false);
    Object user = session == null ? null : session.getAttribute("user");
    if (user == null) {
      return ResponseEntity.status(401).body("no session");
    }
    session.setAttribute("cart", item);
    return ResponseEntity.ok(user + ":" + item);
  }

  /** Never touches the session. */
  @GetMapping("/public")
  String open() {
    return "public";
  }
}
