package io.scalestack.engines.internal;

import io.scalestack.engines.EngineException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * An operating-system user a child process runs as (when the JVM is root), with the file-system
 * operations needed to hand it its directories. Immutable and thread-safe.
 *
 * @param name the user name
 * @param uid the user id
 * @param gid the user's primary group id
 */
public record OsUser(String name, int uid, int gid) {

  /** Looks {@code name} up with {@code id(1)}, so that NSS (LDAP, sssd) users work too. */
  public static OsUser lookup(String name) {
    return new OsUser(name, id(name, "-u"), id(name, "-g"));
  }

  private static int id(String name, String flag) {
    try {
      Process process = new ProcessBuilder("id", flag, name).redirectErrorStream(true).start();
      process.getOutputStream().close();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new EngineException("id " + flag + " " + name + " did not finish within 10 s");
      }
      if (process.exitValue() != 0) {
        throw new EngineException("runAsUser: " + name + " (expected: an existing user; id says: " + out + ")");
      }
      return Integer.parseInt(out);
    } catch (IOException | NumberFormatException e) {
      throw new EngineException("cannot look up user " + name + " with id " + flag + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EngineException("interrupted while looking up user " + name, e);
    }
  }

  /** Makes this user the owner of {@code path} (not following a symbolic link). */
  public void chown(Path path) {
    try {
      UserPrincipal principal = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
      Files.setOwner(path, principal);
    } catch (IOException e) {
      throw new EngineException("cannot give " + path + " to user " + name + ": " + e, e);
    }
  }

  /** Makes this user the owner of {@code root} and of everything below it that it does not own yet. */
  public void chownTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : (Iterable<Path>) paths::iterator) {
        if (!name.equals(Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName())) {
          UserPrincipal principal = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
          Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setOwner(principal);
        }
      }
    } catch (IOException e) {
      throw new EngineException("cannot give " + root + " to user " + name + ": " + e, e);
    }
  }

  /**
   * Checks that this user can traverse {@code path} and every directory above it, so that an
   * engine running as this user can reach what is inside. Follows the owner/group/other bits; ACLs
   * are not considered.
   *
   * @param role what the path is for, as shown in the error ("data directory", "engine cache")
   */
  public void checkTraversable(Path path, String role) {
    Path absolute = path.toAbsolutePath().normalize();
    for (Path dir = absolute; dir != null; dir = dir.getParent()) {
      if (!Files.exists(dir)) {
        continue; // created later by us, with a traversable mode
      }
      PosixFileAttributes attributes;
      try {
        attributes = Files.readAttributes(dir, PosixFileAttributes.class);
      } catch (UnsupportedOperationException e) {
        return; // not a POSIX file system: nothing we can check
      } catch (IOException e) {
        throw new EngineException("cannot read the permissions of " + dir + ": " + e, e);
      }
      if (!attributes.isDirectory()) {
        continue;
      }
      Set<PosixFilePermission> perms = attributes.permissions();
      boolean ok;
      if (attributes.owner().getName().equals(name)) {
        ok = perms.contains(PosixFilePermission.OWNER_EXECUTE);
      } else if (Integer.toString(gid).equals(groupId(dir)) ) {
        ok = perms.contains(PosixFilePermission.GROUP_EXECUTE);
      } else {
        ok = perms.contains(PosixFilePermission.OTHERS_EXECUTE);
      }
      if (!ok) {
        throw new EngineException(role + " " + absolute + " is not reachable by user " + name
            + " (PostgreSQL refuses to run as root, so it runs as " + name + "): directory " + dir
            + " has mode " + java.nio.file.attribute.PosixFilePermissions.toString(perms)
            + " and is owned by " + attributes.owner().getName()
            + " (expected: world-traversable, for example chmod o+x " + dir
            + ", or choose a " + role + " under a directory such as /tmp or /var/lib)");
      }
    }
  }

  private static String groupId(Path dir) {
    try {
      return String.valueOf(Files.getAttribute(dir, "unix:gid"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "";
    }
  }
}
