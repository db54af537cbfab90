package dev.octet.dist;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleBinaryOperator;

/**
 * Collectives over host arrays between the processes of a data-parallel run, through TCP: what the CPU backend's
 * ranks exchange, where NCCL serves the GPU's. Every rank connects to rank 0, which adds the ranks' parts in rank
 * order (from zero, then rank 0's, rank 1's, ...) and sends the result on, so every rank gets the same bits and the
 * sums are the ones a run of the ranks as threads computes. The ranks meet through {@link UniqueIdRendezvous}:
 * the "communicator id" rank 0 hands out is the port its collectives listen on, as NCCL's id names its root's
 * socket, and the {@link RankLink} stays open to say which rank stopped when one does: a collective waiting for
 * it then fails at once with that line ({@link RankFailureException}) instead of waiting forever.
 */
public final class HostCollectives implements GradientExchange, AutoCloseable {
    private final int rank, worldSize;
    private final RankLink link;
    private final Socket[] sockets;            // rank 0: index r is rank r (0 unused); another rank: index 0 is rank 0
    private final DataInputStream[] inputs;
    private final DataOutputStream[] outputs;
    private volatile boolean closed;
    private final List<Runnable> onFailure = new CopyOnWriteArrayList<>();

    private HostCollectives(int rank, int worldSize, RankLink link, Socket[] sockets) throws IOException {
        this.rank = rank;
        this.worldSize = worldSize;
        this.link = link;
        this.sockets = sockets;
        this.inputs = new DataInputStream[sockets.length];
        this.outputs = new DataOutputStream[sockets.length];
        for (int i = 0; i < sockets.length; i++) {
            if (sockets[i] != null) {
                sockets[i].setTcpNoDelay(true);
                inputs[i] = new DataInputStream(new BufferedInputStream(sockets[i].getInputStream(), 1 << 16));
                outputs[i] = new DataOutputStream(new BufferedOutputStream(sockets[i].getOutputStream(), 1 << 16));
            }
        }
        // A rank that stops unblocks every collective here: its line is what they then report.
        link.watch(reason -> {
            closeSockets();
            onFailure.forEach(Runnable::run);
        });
    }

    /** One process: nothing to exchange. */
    public static HostCollectives single() {
        try {
            return new HostCollectives(0, 1, RankLink.single(new byte[0]), new Socket[0]);
        } catch (IOException e) {
            throw new IllegalStateException(e);  // no socket to configure
        }
    }

    /** Meets the other ranks of {@code rank}'s run, waiting at most {@code timeout} for all of them. */
    public static HostCollectives connect(RankEnvironment rank, Duration timeout) throws IOException {
        if (rank.isSingle()) {
            return single();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        if (rank.rank() == 0) {
            try (ServerSocket server = new ServerSocket()) {
                server.bind(new InetSocketAddress(InetAddress.getByName(rank.masterAddress()), 0));
                byte[] port = ByteBuffer.allocate(Integer.BYTES).putInt(server.getLocalPort()).array();
                RankLink link = UniqueIdRendezvous.join(rank, () -> port, timeout);
                Socket[] peers = new Socket[rank.worldSize()];
                try {
                    for (int waiting = rank.worldSize() - 1; waiting > 0; waiting--) {
                        server.setSoTimeout(millisLeft(deadline));
                        Socket peer = server.accept();
                        peer.setSoTimeout(millisLeft(deadline));
                        int from = new DataInputStream(peer.getInputStream()).readInt();
                        if (from <= 0 || from >= peers.length || peers[from] != null) {
                            peer.close();
                            throw new IOException("the collectives of rank 0 were joined by rank " + from + " twice or out of range");
                        }
                        peer.setSoTimeout(0);
                        peers[from] = peer;
                    }
                    return new HostCollectives(0, rank.worldSize(), link, peers);
                } catch (IOException e) {
                    closeAll(peers);
                    link.close();
                    throw e instanceof SocketTimeoutException
                            ? new IOException("not every rank joined rank 0's collectives within " + timeout.toSeconds() + " s")
                            : e;
                }
            }
        }
        RankLink link = UniqueIdRendezvous.join(rank, () -> {
            throw new IllegalStateException("only rank 0 creates the id");
        }, timeout);
        int port = ByteBuffer.wrap(link.id()).getInt();
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(rank.masterAddress(), port), millisLeft(deadline));
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(rank.rank());
            out.flush();
            return new HostCollectives(rank.rank(), rank.worldSize(), link, new Socket[] {socket});
        } catch (IOException e) {
            socket.close();
            link.close();
            throw e;
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    /**
     * Runs {@code action} (on a watcher thread) when another rank stops: how work that waits for the ranks outside
     * these collectives (NCCL's, on a GPU stream) is aborted.
     */
    @Override
    public void onRankFailure(Runnable action) {
        onFailure.add(action);
    }

    @Override
    public Optional<String> rankFailure() {
        return link.failure();
    }

    @Override
    public int worldSize() {
        return worldSize;
    }

    @Override
    public void allReduceSum(double[] values) {
        allReduce(values, Double::sum, 0);
    }

    @Override
    public void allReduceMax(double[] values) {
        allReduce(values, Math::max, Double.NEGATIVE_INFINITY);
    }

    private void allReduce(double[] values, DoubleBinaryOperator combine, double identity) {
        if (worldSize == 1) {
            return;
        }
        try {
            if (rank == 0) {
                double[] result = combineAtRankZero(values, combine, identity);
                System.arraycopy(result, 0, values, 0, values.length);
                for (int r = 1; r < worldSize; r++) {
                    write(r, result);
                }
            } else {
                write(0, values);
                read(0, values);
            }
        } catch (IOException e) {
            throw failure(e);
        }
    }

    @Override
    public void reduce(double[] values, int root) {
        requireRank(root);
        if (worldSize == 1) {
            return;
        }
        try {
            if (rank == 0) {
                double[] sum = combineAtRankZero(values, Double::sum, 0);
                if (root == 0) {
                    System.arraycopy(sum, 0, values, 0, values.length);
                } else {
                    write(root, sum);
                }
            } else {
                write(0, values);
                if (rank == root) {
                    read(0, values);
                }
            }
        } catch (IOException e) {
            throw failure(e);
        }
    }

    @Override
    public void broadcast(float[] values, int root) {
        requireRank(root);
        if (worldSize == 1) {
            return;
        }
        try {
            if (rank == 0) {
                if (root != 0) {
                    read(root, values);
                }
                for (int r = 1; r < worldSize; r++) {
                    if (r != root) {
                        write(r, values);
                    }
                }
            } else if (rank == root) {
                write(0, values);
            } else {
                read(0, values);
            }
        } catch (IOException e) {
            throw failure(e);
        }
    }

    /** Ends this rank's part because it failed: every other rank stops with {@code reason}, one line. */
    public void stop(String reason) {
        closed = true;
        link.stop(reason);
        closeSockets();
    }

    /** Ends this rank's part in order: the other ranks do not take it for a failure. */
    @Override
    public void close() {
        closed = true;
        link.close();
        closeSockets();
    }

    /** Drops out without a word, as a process that dies does (for tests of what the other ranks then see). */
    void abandon() throws IOException {
        closed = true;
        link.abandon();
        closeSockets();
    }

    /** {@code identity} combined with every rank's part in rank order, at rank 0. */
    private double[] combineAtRankZero(double[] own, DoubleBinaryOperator combine, double identity) throws IOException {
        double[] result = new double[own.length];
        java.util.Arrays.fill(result, identity);
        double[] part = new double[own.length];
        for (int r = 0; r < worldSize; r++) {
            double[] p = own;
            if (r > 0) {
                read(r, part);
                p = part;
            }
            for (int i = 0; i < result.length; i++) {
                result[i] = combine.applyAsDouble(result[i], p[i]);
            }
        }
        return result;
    }

    private void write(int peer, double[] values) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Double.BYTES);
        bytes.asDoubleBuffer().put(values);
        send(peer, values.length, bytes);
    }

    private void write(int peer, float[] values) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES);
        bytes.asFloatBuffer().put(values);
        send(peer, values.length, bytes);
    }

    private void send(int peer, int length, ByteBuffer bytes) throws IOException {
        DataOutputStream out = outputs[slot(peer)];
        out.writeInt(length);
        out.write(bytes.array());
        out.flush();
    }

    private void read(int peer, double[] into) throws IOException {
        receive(peer, into.length, Double.BYTES).asDoubleBuffer().get(into);
    }

    private void read(int peer, float[] into) throws IOException {
        receive(peer, into.length, Float.BYTES).asFloatBuffer().get(into);
    }

    private ByteBuffer receive(int peer, int length, int elementBytes) throws IOException {
        DataInputStream in = inputs[slot(peer)];
        int sent = in.readInt();
        if (sent != length) {
            throw new IllegalStateException("rank " + peer + " sent " + sent + " values where rank " + rank + " expects "
                    + length + ": the ranks are not running the same step");
        }
        byte[] bytes = new byte[length * elementBytes];
        in.readFully(bytes);
        return ByteBuffer.wrap(bytes);
    }

    private int slot(int peer) {
        return rank == 0 ? peer : 0;
    }

    private void requireRank(int root) {
        if (root < 0 || root >= worldSize) {
            throw new IllegalArgumentException("rank " + root + " is not one of 0.." + (worldSize - 1));
        }
    }

    /** The line of the rank that stopped, when the link knows it (it may learn a moment after the socket closed). */
    private RuntimeException failure(IOException cause) {
        if (closed) {
            return new IllegalStateException("rank " + rank + "'s collectives were used after they were closed");
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (link.failure().isEmpty() && System.nanoTime() < until) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new RankFailureException(link.failure().orElse("rank " + rank + " lost a connection to "
                + (rank == 0 ? "another rank" : "rank 0") + ": " + cause.getMessage()));
    }

    private void closeSockets() {
        closeAll(sockets);
    }

    private static void closeAll(Socket[] sockets) {
        for (Socket s : sockets) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // Closing to unblock or to end: nothing more to do with it.
                }
            }
        }
    }

    private static int millisLeft(long deadline) throws SocketTimeoutException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new SocketTimeoutException("time is up");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }
}
