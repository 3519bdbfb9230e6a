package io.scalestack.session;

import io.scalestack.session.internal.ClusterMessages;
import io.scalestack.session.internal.ClusterMessages.Delta;
import io.scalestack.session.internal.ClusterMessages.Request;
import io.scalestack.session.internal.SessionIds;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.blocks.MessageDispatcher;
import org.jgroups.blocks.RequestOptions;
import org.jgroups.blocks.ResponseMode;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.FILE_PING;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.MFC;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UFC;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.stack.Protocol;
import org.jgroups.util.Rsp;
import org.jgroups.util.RspList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code clustered} session strategy: web servers replicate sessions to each other over
 * JGroups, with no store of their own, in one of two layouts.
 *
 * <ul>
 *   <li>{@link Replication#ALL}: every server holds every session (Tomcat's {@code
 *       DeltaManager}). Reads are local; every write goes to every server. Memory per server and
 *       write traffic grow with the cluster — "only efficient when the clusters are small".
 *   <li>{@link Replication#BACKUP}: each session lives on two servers, its owners, chosen by
 *       rendezvous hashing of its id over the current members (like Tomcat's {@code
 *       BackupManager}, which keeps one primary and one backup copy, but with no proxy entries:
 *       every member computes the same owners). A server that owns a session reads it locally,
 *       any other asks an owner. Memory per server is about 2/N of the sessions.
 * </ul>
 *
 * <p>Writes are synchronous: {@link #save} returns once every owner acknowledged (or was found
 * dead), so a response never goes out before its session changes have a second copy; killing one
 * server loses no session. When the membership changes (a server joins, leaves or is killed),
 * every session is copied to its owners under the new membership by the first of its previous
 * owners that is still there, and dropped by servers that no longer own it. Writes are deltas
 * (the changed attributes), applied to each owner's copy under its map entry, so concurrent
 * requests changing different attributes keep each other's changes. A write racing a membership
 * change may reach only some owners; the copies then differ until the session's next write.
 *
 * <p>Discovery: the members find each other through files in a shared directory ({@code
 * FILE_PING}, for servers on one machine, as {@code scalestack up} runs them) or a fixed list of
 * addresses; the transport is TCP, failure detection by broken TCP connections ({@code FD_SOCK2},
 * a kill -9 is seen at once) and heartbeats. Messages are parsed by {@link ClusterMessages}, never
 * Java-deserialized by this class; JGroups itself trusts its peers, so run the cluster on a
 * private network (or add its {@code AUTH}/{@code ASYM_ENCRYPT} protocols).
 *
 * <p>Thread-safe. Create with {@link #builder()}; {@link #close()} leaves the cluster.
 */
public final class ClusteredSessionRepository implements SessionRepository {

  /** Which servers hold a session. */
  public enum Replication {
    /** Every server holds every session. */
    ALL,
    /** Two servers, the session's owners, hold it. */
    BACKUP
  }

  private static final Logger log = LoggerFactory.getLogger(ClusteredSessionRepository.class);
  private static final int COPIES = 2;

  private final ConcurrentHashMap<String, SessionData> sessions = new ConcurrentHashMap<>();
  private final SessionIds ids = new SessionIds();
  private final Replication replication;
  private final Duration timeout;
  private final String name;
  private final JChannel channel;
  private final MessageDispatcher dispatcher;
  // membership changes are handled in order, off the JGroups thread that reports them
  private final ExecutorService rebalancer = Executors.newSingleThreadExecutor(
      Thread.ofVirtual().name("session-cluster-rebalance").factory());
  private final LongAdder bytesSent = new LongAdder();
  private final LongAdder messagesSent = new LongAdder();
  private volatile View view;

  private ClusteredSessionRepository(Builder builder) throws Exception {
    this.replication = builder.replication;
    this.timeout = builder.timeout;
    this.name = builder.memberName;
    List<Protocol> stack = new ArrayList<>();
    TCP tcp = new TCP();
    tcp.setBindAddress(InetAddress.getByName(builder.bindAddress));
    tcp.setBindPort(builder.bindPort);
    tcp.setPortRange(builder.bindPort == 0 ? 0 : 10);
    stack.add(tcp);
    if (builder.discoveryDirectory != null) {
      Files.createDirectories(builder.discoveryDirectory);
      stack.add(new FILE_PING().setLocation(builder.discoveryDirectory.toString()));
    } else {
      stack.add(new TCPPING().setInitialHosts(builder.initialHosts));
    }
    // servers started together may each found a cluster of their own before they see each other;
    // MERGE3 then joins the partitions: checked every 1-3 s instead of JGroups' default 10-30 s
    stack.add(new MERGE3().setMinInterval(1000).setMaxInterval(3000));
    stack.add(new FD_SOCK2());
    stack.add(new FD_ALL3());
    stack.add(new VERIFY_SUSPECT2());
    stack.add(new NAKACK2());
    stack.add(new UNICAST3());
    stack.add(new STABLE());
    stack.add(new GMS().setJoinTimeout(builder.joinTimeout.toMillis()));
    stack.add(new UFC());
    stack.add(new MFC());
    stack.add(new FRAG4());
    channel = new JChannel(stack.toArray(Protocol[]::new)).name(builder.memberName);
    dispatcher = new MessageDispatcher(channel, this::handle);
    dispatcher.setReceiver(new Receiver() {
      @Override
      public void viewAccepted(View next) {
        View previous = view;
        view = next;
        log.info("session cluster {}: view {} ({} members)", builder.clusterName, next, next.size());
        try {
          rebalancer.execute(() -> rebalance(previous, next));
        } catch (RejectedExecutionException e) {
          // close() stopped the rebalancer first: a member that is leaving hands nothing over
          log.debug("session cluster {}: closing, view {} not rebalanced", builder.clusterName, next);
        }
      }
    });
    channel.connect(builder.clusterName);
    view = channel.view();
  }

  /** A builder; {@code memberName} and a discovery (directory or initial hosts) are required. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SessionData create(Instant now, Duration maxInactiveInterval) {
    return SessionData.newSession(ids.next(), now, maxInactiveInterval);
  }

  @Override
  public Optional<SessionData> find(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return Optional.empty();
    }
    List<Address> owners = owners(id);
    if (owners.contains(channel.getAddress())) {
      SessionData local = sessions.get(id);
      if (local != null || owners.size() == 1) {
        // a copy: a request's change in place must reach the owners through a save, not by itself
        return Optional.ofNullable(local == null ? null : local.copy(local.lastAccessedTime()));
      }
    }
    for (Address owner : owners) {
      if (owner.equals(channel.getAddress())) {
        continue;
      }
      try {
        byte[] reply = send(owner, ClusterMessages.get(id));
        SessionData found = reply == null ? null : ClusterMessages.parseSession(reply);
        if (found != null) {
          return Optional.of(found);
        }
      } catch (Exception e) {
        log.debug("session cluster: {} did not answer a lookup: {}", owner, e.toString());
      }
    }
    return Optional.empty();
  }

  @Override
  public Optional<SessionData> findForRequest(String id, Instant now) {
    Objects.requireNonNull(now, "now");
    Optional<SessionData> found = find(id);
    if (found.isEmpty()) {
      return found;
    }
    SessionData session = found.get();
    if (session.isExpired(now)) {
      delete(id);
      return Optional.empty();
    }
    Duration sinceRecorded = Duration.between(session.lastAccessedTime(), now);
    if (sinceRecorded.compareTo(SessionData.accessRecordingInterval(session.maxInactiveInterval())) < 0) {
      return found;
    }
    SessionData touched = new SessionData(id, session.creationTime(), now, session.maxInactiveInterval(),
        session.attributes());
    boolean applied = write(id, new Delta(now, session.maxInactiveInterval(), Map.of(), List.of()));
    return applied ? Optional.of(touched) : Optional.empty();
  }

  @Override
  public Optional<String> save(SessionData session, Set<String> changedAttributeNames, boolean isNew) {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(changedAttributeNames, "changedAttributeNames");
    if (!SessionIds.isWellFormed(session.id())) {
      throw new IllegalArgumentException("session id: " + SessionIds.redact(session.id())
          + " (expected: an id created by this repository)");
    }
    if (isNew) {
      writeAll(owners(session.id()), ClusterMessages.put(session, false));
      return Optional.of(session.id());
    }
    Map<String, Object> sets = new LinkedHashMap<>();
    List<String> removes = new ArrayList<>();
    for (String attribute : changedAttributeNames) {
      Object value = session.attributes().get(attribute);
      if (value == null) {
        removes.add(attribute);
      } else {
        sets.put(attribute, value);
      }
    }
    boolean applied = write(session.id(),
        new Delta(session.lastAccessedTime(), session.maxInactiveInterval(), sets, removes));
    return applied ? Optional.of(session.id()) : Optional.empty();
  }

  @Override
  public void delete(String id) {
    if (SessionIds.isWellFormed(id)) {
      writeAll(owners(id), ClusterMessages.delete(id));
    }
  }

  @Override
  public Optional<String> changeId(String id) {
    Optional<SessionData> found = find(id);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    SessionData old = found.get();
    String newId = ids.next();
    SessionData moved = new SessionData(newId, old.creationTime(), old.lastAccessedTime(),
        old.maxInactiveInterval(), old.attributes());
    // the new copy first: a failure leaves the old id working rather than no session at all
    writeAll(owners(newId), ClusterMessages.put(moved, false));
    delete(id);
    return Optional.of(newId);
  }

  @Override
  public int deleteAllOf(String principal) {
    Objects.requireNonNull(principal, "principal");
    int deleted = deleteLocal(principal);
    List<Address> others = view.getMembers().stream().filter(a -> !a.equals(channel.getAddress())).toList();
    if (others.isEmpty()) {
      return deleted;
    }
    byte[] request = ClusterMessages.deletePrincipal(principal);
    try {
      count(request, others.size());
      RspList<byte[]> replies = dispatcher.castMessage(others, new BytesMessage(null, request),
          new RequestOptions(ResponseMode.GET_ALL, timeout.toMillis(), true));
      for (Rsp<byte[]> reply : replies) {
        if (reply.wasReceived() && reply.getValue() != null) {
          deleted += ClusterMessages.parseCount(reply.getValue());
        }
      }
    } catch (Exception e) {
      throw new SessionStoreException("session cluster " + name + ": deleting the sessions of a principal failed: " + e, e);
    }
    return deleted;
  }

  /**
   * Deletes this server's copies of the principal's sessions; counts those it is the first owner
   * of, so that a session with two copies is counted once across the cluster.
   */
  private int deleteLocal(String principal) {
    Address self = channel.getAddress();
    int counted = 0;
    for (String id : sessions.keySet()) {
      boolean[] removed = {false};
      // decided under the entry, so a delta landing meanwhile cannot bring the session back
      sessions.computeIfPresent(id, (key, session) -> {
        removed[0] = principal.equals(session.attributes().get(PRINCIPAL_ATTRIBUTE));
        return removed[0] ? null : session;
      });
      List<Address> owners = owners(id);
      if (removed[0] && !owners.isEmpty() && owners.get(0).equals(self)) {
        counted++;
      }
    }
    return counted;
  }

  /** Sessions held by this server (its own share, or all of them with {@link Replication#ALL}). */
  public int localSessions() {
    return sessions.size();
  }

  /** Bytes of session messages this server sent to its peers since it started. */
  public long bytesSent() {
    return bytesSent.sum();
  }

  /** Session messages this server sent to its peers since it started. */
  public long messagesSent() {
    return messagesSent.sum();
  }

  /** Members of the cluster as this server sees it now. */
  public int members() {
    return view.size();
  }

  /** Leaves the cluster: the others take over this server's share. Idempotent. */
  @Override
  public void close() {
    rebalancer.shutdown();
    try {
      dispatcher.close();
    } catch (java.io.IOException e) {
      log.debug("session cluster {}: closing the dispatcher: {}", name, e.toString());
    }
    channel.close();
  }

  @Override
  public String toString() {
    return "ClusteredSessionRepository[" + name + ", " + replication + ", " + view + "]";
  }

  // ---- placement

  /** The members that hold {@code id} in {@code v}: all, or the two with the highest rendezvous hash. */
  private List<Address> owners(String id, View v) {
    List<Address> members = v.getMembers();
    if (replication == Replication.ALL || members.size() <= COPIES) {
      return members;
    }
    return members.stream()
        .sorted(Comparator.comparingLong((Address a) -> weight(id, a)).reversed())
        .limit(COPIES)
        .toList();
  }

  private List<Address> owners(String id) {
    return owners(id, view);
  }

  // Rendezvous (highest random weight) hashing: when a member goes, only its sessions move. The
  // member is hashed by its UUID, which every member knows exactly from the view, never by its
  // logical name: Address.toString() gives the name only while JGroups' NameCache holds it and the
  // UUID string otherwise, so two members could rank the owners differently and each drop a copy
  // the other did not push (seen as lost sessions after a killed server rejoined).
  private static long weight(String id, Address member) {
    long memberBits = member instanceof org.jgroups.util.UUID uuid
        ? uuid.getMostSignificantBits() * 31 + uuid.getLeastSignificantBits()
        : member.hashCode();
    long h = id.hashCode() * 0x9E3779B97F4A7C15L ^ memberBits;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    return h ^ (h >>> 33);
  }

  // ---- writes

  /** Applies a delta on every owner; true when at least one owner had the session. */
  private boolean write(String id, Delta delta) {
    return writeAll(owners(id), ClusterMessages.delta(id, delta)) > 0;
  }

  /** Sends {@code request} to {@code owners} (applying it here if this server is one); how many applied it. */
  private int writeAll(List<Address> owners, byte[] request) {
    int applied = 0;
    List<Address> remote = new ArrayList<>(owners.size());
    for (Address owner : owners) {
      if (owner.equals(channel.getAddress())) {
        applied += apply(ClusterMessages.parse(request));
      } else {
        remote.add(owner);
      }
    }
    if (remote.isEmpty()) {
      return applied;
    }
    RspList<byte[]> replies;
    try {
      count(request, remote.size());
      replies = dispatcher.castMessage(remote, new BytesMessage(null, request),
          // anycast: a unicast to each owner; a multicast would reach (and be applied by) every member
          new RequestOptions(ResponseMode.GET_ALL, timeout.toMillis(), true));
    } catch (Exception e) {
      throw new SessionStoreException("session cluster " + name + ": replicating to " + remote + " failed: " + e, e);
    }
    int answered = 0;
    for (Rsp<byte[]> reply : replies) {
      if (reply.wasReceived() && reply.getValue() != null) {
        answered++;
        applied += reply.getValue().length == 1 ? reply.getValue()[0] : 0;
      }
    }
    if (answered == 0 && applied == 0) {
      throw new SessionStoreException("session cluster " + name + ": no owner of the session answered within "
          + timeout.toMillis() + " ms (" + remote + ")");
    }
    return applied;
  }

  private byte[] send(Address owner, byte[] request) throws Exception {
    count(request, 1);
    return dispatcher.sendMessage(new BytesMessage(owner, request),
        new RequestOptions(ResponseMode.GET_FIRST, timeout.toMillis()));
  }

  private void count(byte[] request, int copies) {
    bytesSent.add((long) request.length * copies);
    messagesSent.add(copies);
  }

  // ---- the receiving side

  private Object handle(Message message) {
    Request request;
    try {
      request = ClusterMessages.parse(message.getArray());
    } catch (IllegalArgumentException e) {
      log.warn("session cluster {}: dropping a message from {}: {}", name, message.getSrc(), e.getMessage());
      return new byte[] {0};
    }
    if (request.op() == ClusterMessages.DELETE_PRINCIPAL) {
      return ClusterMessages.count(deleteLocal(request.id()));
    }
    if (request.op() == ClusterMessages.GET) {
      byte[] reply = ClusterMessages.session(sessions.get(request.id()));
      // a lookup's answer is replication traffic too: counted by the server that sends it
      bytesSent.add(reply.length);
      return reply;
    }
    return new byte[] {(byte) apply(request)};
  }

  /** Applies a write to this server's copy; 1 when it had (or now has) the session. */
  private int apply(Request request) {
    switch (request.op()) {
      case ClusterMessages.PUT -> {
        sessions.put(request.id(), request.session());
        return 1;
      }
      case ClusterMessages.PUT_IF_ABSENT -> {
        sessions.putIfAbsent(request.id(), request.session());
        return 1;
      }
      case ClusterMessages.DELETE -> {
        sessions.remove(request.id());
        return 1;
      }
      case ClusterMessages.DELTA -> {
        Delta delta = request.delta();
        SessionData merged = sessions.computeIfPresent(request.id(), (id, stored) -> {
          Map<String, Object> attributes = new LinkedHashMap<>(stored.attributes());
          attributes.putAll(delta.sets());
          delta.removes().forEach(attributes::remove);
          return new SessionData(id, stored.creationTime(), delta.lastAccessedTime(), delta.maxInactiveInterval(),
              attributes);
        });
        return merged == null ? 0 : 1;
      }
      default -> {
        return 0;
      }
    }
  }

  // ---- membership changes

  private void rebalance(View previous, View next) {
    Address self = channel.getAddress();
    int pushed = 0;
    int dropped = 0;
    for (SessionData session : sessions.values()) {
      List<Address> newOwners = owners(session.id(), next);
      List<Address> oldOwners = previous == null ? List.of(self) : owners(session.id(), previous);
      // the first previous owner still present copies the session to the owners that lack it
      Address pusher = oldOwners.stream().filter(next::containsMember).findFirst().orElse(self);
      if (pusher.equals(self)) {
        List<Address> lacking = newOwners.stream()
            .filter(a -> !a.equals(self) && !oldOwners.contains(a))
            .toList();
        if (!lacking.isEmpty()) {
          try {
            writeAll(lacking, ClusterMessages.put(session, true));
            pushed++;
          } catch (SessionStoreException e) {
            log.warn("session cluster {}: could not copy a session to {}: {}", name, lacking, e.getMessage());
            continue;
          }
        }
      }
      if (!newOwners.contains(self)) {
        sessions.remove(session.id(), session);
        dropped++;
      }
    }
    if (pushed > 0 || dropped > 0) {
      log.info("session cluster {}: view {}: copied {} sessions to new owners, dropped {} no longer owned here",
          name, next.getViewId(), pushed, dropped);
    }
  }

  /** Builds a {@link ClusteredSessionRepository}. Not thread-safe; validates each setting when set. */
  public static final class Builder {
    private String clusterName = "scalestack-sessions";
    private String memberName;
    private Replication replication = Replication.BACKUP;
    private String bindAddress = "127.0.0.1";
    private int bindPort = 0;
    private Path discoveryDirectory;
    private List<InetSocketAddress> initialHosts = List.of();
    private Duration timeout = Duration.ofSeconds(2);
    private Duration joinTimeout = Duration.ofSeconds(1);

    private Builder() {}

    /** Servers with the same cluster name replicate to each other (default {@code scalestack-sessions}). */
    public Builder clusterName(String clusterName) {
      this.clusterName = requireText("clusterName", clusterName);
      return this;
    }

    /** Required: this server's name in the cluster, unique among its members (e.g. {@code web-1}). */
    public Builder memberName(String memberName) {
      this.memberName = requireText("memberName", memberName);
      return this;
    }

    /** {@link Replication#BACKUP} (default) or {@link Replication#ALL}. */
    public Builder replication(Replication replication) {
      this.replication = Objects.requireNonNull(replication, "replication");
      return this;
    }

    /** The address and port of this server's cluster transport (default 127.0.0.1, any free port). */
    public Builder bind(String address, int port) {
      this.bindAddress = requireText("bindAddress", address);
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("bindPort: " + port + " (expected: 0..65535)");
      }
      this.bindPort = port;
      return this;
    }

    /** Members find each other through files in this directory, shared by all (one machine). */
    public Builder discoveryDirectory(Path directory) {
      this.discoveryDirectory = Objects.requireNonNull(directory, "discoveryDirectory");
      return this;
    }

    /** Members find each other at these transport addresses (each member's {@link #bind}). */
    public Builder initialHosts(List<InetSocketAddress> hosts) {
      if (hosts.isEmpty()) {
        throw new IllegalArgumentException("initialHosts: [] (expected: at least one host:port)");
      }
      this.initialHosts = List.copyOf(hosts);
      return this;
    }

    /** How long a replication or a lookup waits for a peer (default 2 s). */
    public Builder timeout(Duration timeout) {
      if (timeout.toMillis() < 1) {
        throw new IllegalArgumentException("timeout: " + timeout + " (expected: >= 1 ms)");
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Joins the cluster (or founds it, when nobody answers within the join timeout).
     *
     * @throws SessionStoreException if the transport cannot start
     */
    public ClusteredSessionRepository build() {
      if (memberName == null) {
        throw new IllegalStateException("memberName: not set (expected: this server's unique name)");
      }
      if (discoveryDirectory == null && initialHosts.isEmpty()) {
        throw new IllegalStateException("discovery: not set (expected: discoveryDirectory or initialHosts)");
      }
      try {
        return new ClusteredSessionRepository(this);
      } catch (Exception e) {
        throw new SessionStoreException("session cluster " + clusterName + ": " + memberName + " cannot join: " + e, e);
      }
    }

    private static String requireText(String field, String value) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(field + ": '" + value + "' (expected: non-blank text)");
      }
      return value;
    }
  }
}
