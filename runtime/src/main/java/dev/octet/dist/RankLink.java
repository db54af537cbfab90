package dev.octet.dist;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A rank's standing connection to the run, made by {@link UniqueIdRendezvous#join}: rank 0 holds one to every
 * other rank, the others one to rank 0. It carries the communicator id, and afterwards only how a rank ends:
 * "done" when it closes in order, nothing when its process dies, which closes the socket. Rank 0 tells the
 * other ranks which rank stopped, so every rank reports the same one line ({@link #watch}) and can abort its
 * collectives instead of waiting for a peer that is gone.
 */
public final class RankLink implements AutoCloseable {
    private static final String DONE = "done", STOPPED = "stopped:";

    private final int rank;
    private final byte[] id;
    private final List<Socket> sockets;  // rank 0: ranks 1..N-1 in order; another rank: its socket to rank 0
    private final AtomicBoolean failed = new AtomicBoolean();
    private volatile boolean closing;
    private volatile String failure;
    private volatile Consumer<String> onFailure = reason -> {};

    private RankLink(int rank, byte[] id, List<Socket> sockets) {
        this.rank = rank;
        this.id = id.clone();
        this.sockets = List.copyOf(sockets);
    }

    static RankLink single(byte[] id) {
        return new RankLink(0, id, List.of());
    }

    static RankLink rankZero(byte[] id, List<Socket> peers) {
        return new RankLink(0, id, peers);
    }

    static RankLink rank(int rank, byte[] id, Socket toRankZero) {
        return new RankLink(rank, id, List.of(toRankZero));
    }

    /** The bytes rank 0 created, the same on every rank. */
    public byte[] id() {
        return id.clone();
    }

    /**
     * Starts watching the other ranks: when one stops without closing its link, {@code onFailure} is called once,
     * on a watcher thread, with a line naming it (e.g. "rank 2 stopped: its connection to rank 0 closed").
     */
    public void watch(Consumer<String> onFailure) {
        this.onFailure = onFailure;
        for (int i = 0; i < sockets.size(); i++) {
            int peer = rank == 0 ? i + 1 : 0;
            Socket socket = sockets.get(i);
            Thread watcher = new Thread(() -> watchPeer(peer, socket), "octet-rank-link-" + rank + "-" + peer);
            watcher.setDaemon(true);
            watcher.start();
        }
    }

    /** Why the run stopped, once a rank has. */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /** Ends this rank's part in order: the others are told, and do not take it for a failure. */
    @Override
    public void close() {
        closing = true;
        for (Socket socket : sockets) {
            try (socket) {
                send(socket, DONE);
            } catch (IOException ignored) {
                // The other side is gone already; it has nothing more to hear from this rank.
            }
        }
    }

    /**
     * Ends this rank's part because it failed: rank 0 tells every other rank {@code reason}; another rank tells rank
     * 0, which passes it on. Closing afterwards sends nothing more.
     */
    public void stop(String reason) {
        closing = true;
        for (Socket socket : sockets) {
            try (socket) {
                send(socket, STOPPED + reason);
            } catch (IOException ignored) {
                // That rank is gone already.
            }
        }
    }

    /** Closes the link without a word, as a process that dies does (for tests of what the others then see). */
    void abandon() throws IOException {
        closing = true;
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    private void watchPeer(int peer, Socket socket) {
        String reason;
        try {
            String message = new DataInputStream(socket.getInputStream()).readUTF();
            if (message.equals(DONE)) {
                return;
            }
            reason = message.startsWith(STOPPED) ? message.substring(STOPPED.length()) : "rank " + peer + " sent " + message;
        } catch (IOException closed) {
            if (closing) {
                return;
            }
            reason = peer == 0 ? "rank 0 stopped: its connection to rank " + rank + " closed"
                    : "rank " + peer + " stopped: its connection to rank 0 closed";
        }
        fail(reason);
    }

    private void fail(String reason) {
        if (!failed.compareAndSet(false, true)) {
            return;
        }
        failure = reason;
        if (rank == 0) {
            for (Socket socket : sockets) {
                try {
                    send(socket, STOPPED + reason);
                } catch (IOException ignored) {
                    // That rank is gone too, or is the one that stopped.
                }
            }
        }
        onFailure.accept(reason);
    }

    private static synchronized void send(Socket socket, String message) throws IOException {
        DataOutputStream out = new DataOutputStream(socket.getOutputStream());
        out.writeUTF(message);
        out.flush();
    }
}
