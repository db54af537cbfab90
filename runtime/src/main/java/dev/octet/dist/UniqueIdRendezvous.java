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
import java.util.Locale;
import java.util.function.Supplier;

/**
 * How the processes of a data-parallel run meet: rank 0 listens on MASTER_ADDR:MASTER_PORT, the others connect
 * (retrying while rank 0 is still starting) and say who they are, and rank 0 hands every rank the bytes it
 * created (NCCL's communicator id). A process started with another WORLD_SIZE, or a rank started twice, is
 * refused with one line on both sides instead of hanging inside NCCL.
 *
 * <p>The connections then stay open for the run ({@link RankLink}): a rank that dies closes its connection, rank
 * 0 notices and tells the others, and every rank learns in one line which one stopped, where a collective would
 * otherwise wait for it forever.
 */
public final class UniqueIdRendezvous {
    private static final int MAGIC = 0x4F435445;  // "OCTE"

    private UniqueIdRendezvous() {}

    /**
     * Meets the other ranks of {@code rank}'s run, waiting at most {@code timeout}, and returns the link with the
     * bytes {@code create} gave on rank 0. A single-process run just calls {@code create}.
     */
    public static RankLink join(RankEnvironment rank, Supplier<byte[]> create, Duration timeout) throws IOException {
        if (rank.isSingle()) {
            return RankLink.single(create.get());
        }
        return rank.rank() == 0 ? serve(rank, create.get(), timeout) : fetch(rank, timeout);
    }

    private static RankLink serve(RankEnvironment rank, byte[] id, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Socket[] peers = new Socket[rank.worldSize()];
        boolean done = false;
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName(rank.masterAddress()), rank.masterPort()));
            for (int waiting = rank.worldSize() - 1; waiting > 0; ) {
                server.setSoTimeout(remainingMillis(deadline, rank, waiting));
                Socket peer;
                try {
                    peer = server.accept();
                } catch (SocketTimeoutException e) {
                    throw new IOException(missing(peers) + " did not reach rank 0 at " + rank.masterAddress() + ":"
                            + rank.masterPort() + " within " + seconds(timeout));
                }
                int magic, peerRank, peerWorld;
                DataOutputStream out;
                try {
                    peer.setSoTimeout(remainingMillis(deadline, rank, waiting));
                    DataInputStream in = new DataInputStream(peer.getInputStream());
                    out = new DataOutputStream(peer.getOutputStream());
                    magic = in.readInt();
                    peerRank = in.readInt();
                    peerWorld = in.readInt();
                } catch (IOException e) {
                    peer.close();
                    continue;  // not a rank (a port scan, a client that gave up): keep waiting for the real ones
                }
                String refusal = magic != MAGIC ? "a connection that is not an Octet rank"
                        : peerWorld != rank.worldSize() ? "rank " + peerRank + " started with WORLD_SIZE=" + peerWorld
                                + ", rank 0 with " + rank.worldSize()
                        : peerRank <= 0 || peerRank >= rank.worldSize() ? "a rank " + peerRank + " outside 1.." + (rank.worldSize() - 1)
                        : peers[peerRank] != null ? "rank " + peerRank + " twice" : null;
                if (refusal != null) {
                    out.writeInt(-1);
                    out.writeUTF(refusal);
                    out.flush();
                    peer.close();
                    if (magic == MAGIC) {
                        throw new IOException("rendezvous refused " + refusal);
                    }
                    continue;
                }
                peers[peerRank] = peer;
                waiting--;
            }
            for (int r = 1; r < peers.length; r++) {
                DataOutputStream out = new DataOutputStream(peers[r].getOutputStream());
                out.writeInt(id.length);
                out.write(id);
                out.flush();
                peers[r].setSoTimeout(0);
            }
            done = true;
        } finally {
            if (!done) {
                for (Socket p : peers) {
                    if (p != null) {
                        p.close();
                    }
                }
            }
        }
        List<Socket> links = new ArrayList<>();
        for (int r = 1; r < peers.length; r++) {
            links.add(peers[r]);
        }
        return RankLink.rankZero(id, links);
    }

    private static RankLink fetch(RankEnvironment rank, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            Socket socket = new Socket();
            try {
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
                byte[] id = in.readNBytes(length);
                socket.setSoTimeout(0);
                return RankLink.rank(rank.rank(), id, socket);
            } catch (java.net.ConnectException | SocketTimeoutException notYet) {
                socket.close();
                last = notYet;
                sleepBriefly();
            } catch (IOException | RuntimeException e) {
                socket.close();
                throw e;
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

    private static String missing(Socket[] peers) {
        List<String> ranks = new ArrayList<>();
        for (int r = 1; r < peers.length; r++) {
            if (peers[r] == null) {
                ranks.add(Integer.toString(r));
            }
        }
        return (ranks.size() == 1 ? "rank " : "ranks ") + String.join(", ", ranks);
    }

    private static String seconds(Duration timeout) {
        return String.format(Locale.ROOT, "%.1f s", timeout.toMillis() / 1000.0);
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
