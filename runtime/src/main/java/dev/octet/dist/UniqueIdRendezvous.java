package dev.octet.dist;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Hands the bytes rank 0 creates (NCCL's unique id) to every other rank over TCP: rank 0 listens on
 * MASTER_ADDR:MASTER_PORT and answers each rank that connects; the others connect, retrying while rank 0 is
 * still starting. Every rank also sends its rank and the run's world size, so a process started with another
 * world size or a rank twice is refused with one line on both sides instead of hanging in NCCL.
 */
public final class UniqueIdRendezvous {
    private static final int MAGIC = 0x4F435445;  // "OCTE"

    private UniqueIdRendezvous() {}

    /**
     * The bytes {@code create} gives on rank 0, on every rank of {@code rank}'s run; waits at most
     * {@code timeout} for the other side. A single-process run just calls {@code create}.
     */
    public static byte[] exchange(RankEnvironment rank, Supplier<byte[]> create, Duration timeout) throws IOException {
        if (rank.isSingle()) {
            return create.get();
        }
        return rank.rank() == 0 ? serve(rank, create.get(), timeout) : fetch(rank, timeout);
    }

    private static byte[] serve(RankEnvironment rank, byte[] id, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean[] joined = new boolean[rank.worldSize()];
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName(rank.masterAddress()), rank.masterPort()));
            for (int waiting = rank.worldSize() - 1; waiting > 0; ) {
                server.setSoTimeout(remainingMillis(deadline, rank, waiting));
                try (Socket peer = server.accept()) {
                    peer.setSoTimeout(remainingMillis(deadline, rank, waiting));
                    DataInputStream in = new DataInputStream(peer.getInputStream());
                    DataOutputStream out = new DataOutputStream(peer.getOutputStream());
                    int magic = in.readInt(), peerRank = in.readInt(), peerWorld = in.readInt();
                    String refusal = magic != MAGIC ? "a connection that is not an Octet rank"
                            : peerWorld != rank.worldSize() ? "rank " + peerRank + " started with WORLD_SIZE=" + peerWorld
                                    + ", rank 0 with " + rank.worldSize()
                            : peerRank <= 0 || peerRank >= rank.worldSize() ? "a rank " + peerRank + " outside 1.." + (rank.worldSize() - 1)
                            : joined[peerRank] ? "rank " + peerRank + " twice" : null;
                    if (refusal != null) {
                        out.writeInt(-1);
                        out.writeUTF(refusal);
                        out.flush();
                        if (magic == MAGIC) {
                            throw new IOException("rendezvous refused " + refusal);
                        }
                        continue;
                    }
                    joined[peerRank] = true;
                    out.writeInt(id.length);
                    out.write(id);
                    out.flush();
                    waiting--;
                } catch (SocketTimeoutException e) {
                    throw new IOException(missing(rank, joined) + " did not reach rank 0 at " + rank.masterAddress() + ":"
                            + rank.masterPort() + " within " + seconds(timeout));
                }
            }
        }
        return id;
    }

    private static byte[] fetch(RankEnvironment rank, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(rank.masterAddress(), rank.masterPort()),
                        (int) Math.max(1, Math.min(1000, (deadline - System.nanoTime()) / 1_000_000)));
                socket.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.writeInt(MAGIC);
                out.writeInt(rank.rank());
                out.writeInt(rank.worldSize());
                out.flush();
                DataInputStream in = new DataInputStream(socket.getInputStream());
                int length = in.readInt();
                if (length < 0) {
                    throw new IOException("rank 0 refused rank " + rank.rank() + ": " + in.readUTF());
                }
                return in.readNBytes(length);
            } catch (java.net.ConnectException | SocketTimeoutException notYet) {
                last = notYet;
                sleepBriefly();
            }
        }
        throw new IOException("rank " + rank.rank() + " could not reach rank 0 at " + rank.masterAddress() + ":"
                + rank.masterPort() + " within " + seconds(timeout) + (last == null ? "" : " (" + last.getMessage() + ")"));
    }

    private static int remainingMillis(long deadline, RankEnvironment rank, int waiting) throws SocketTimeoutException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new SocketTimeoutException(waiting + " of " + (rank.worldSize() - 1) + " ranks still missing");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    private static String missing(RankEnvironment rank, boolean[] joined) {
        List<String> ranks = new ArrayList<>();
        for (int r = 1; r < joined.length; r++) {
            if (!joined[r]) {
                ranks.add(Integer.toString(r));
            }
        }
        return (ranks.size() == 1 ? "rank " : "ranks ") + String.join(", ", ranks);
    }

    private static String seconds(Duration timeout) {
        return String.format(java.util.Locale.ROOT, "%.1f s", timeout.toMillis() / 1000.0);
    }

    private static void sleepBriefly() throws IOException {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for rank 0");
        }
    }
}
