package dev.octet.cli;

import dev.octet.dist.RankEnvironment;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The other ranks of {@code octet train --gpus N}, started by the process the user ran, which is rank 0: the same
 * JVM and class path, the same command line less {@code --gpus} and with the run directory pinned, and the
 * environment variables a launcher would set ({@link RankEnvironment#forLocalRank}). Their standard output is
 * dropped (rank 0 reports the run); their standard error comes through, each line prefixed with its rank.
 */
final class RankProcesses implements AutoCloseable {
    private final List<Process> processes;

    private RankProcesses(List<Process> processes) {
        this.processes = processes;
    }

    /** The rendezvous port: {@code MASTER_PORT} when set, else a port of this host that is free now. */
    static int rendezvousPort() throws IOException {
        String given = System.getenv(RankEnvironment.MASTER_PORT);
        if (given != null) {
            try {
                int port = Integer.parseInt(given.strip());
                if (port >= 1 && port <= 65535) {
                    return port;
                }
            } catch (NumberFormatException e) {
                // refused below
            }
            throw new IllegalArgumentException(RankEnvironment.MASTER_PORT + "=" + given + " is not a TCP port (1..65535)");
        }
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    /** Starts ranks 1..{@code worldSize}-1 of the run with {@code trainArguments} (the words after "train"). */
    static RankProcesses start(int worldSize, int port, List<String> trainArguments, PrintStream err) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // A debugger's or profiler's agent listens on a port of its own: one per host.
            if (!option.startsWith("-agentlib") && !option.startsWith("-javaagent") && !option.startsWith("-Xrunjdwp")) {
                command.add(option);
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), OctetMain.class.getName(), "train"));
        command.addAll(trainArguments);
        List<Process> started = new ArrayList<>();
        try {
            for (int rank = 1; rank < worldSize; rank++) {
                ProcessBuilder builder = new ProcessBuilder(command)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                builder.environment().putAll(RankEnvironment.forLocalRank(rank, worldSize, port));
                Process process = builder.start();
                relay(process, "rank " + rank + ": ", err);
                started.add(process);
            }
        } catch (IOException e) {
            started.forEach(Process::destroyForcibly);
            throw new IOException("could not start the other ranks' processes: " + e.getMessage(), e);
        }
        return new RankProcesses(started);
    }

    /**
     * {@code arguments} (the words after "train") for the other ranks: without {@code --gpus}, and with
     * {@code --out runDir} when it was not given, so every rank names the same run directory.
     */
    static List<String> forOtherRanks(List<String> arguments, Path runDir) {
        List<String> kept = new ArrayList<>();
        boolean hasOut = false;
        for (int i = 0; i < arguments.size(); i++) {
            String a = arguments.get(i);
            if (a.equals("--gpus")) {
                i++;
                continue;
            }
            if (a.startsWith("--gpus=")) {
                continue;
            }
            hasOut |= a.equals("--out") || a.startsWith("--out=");
            kept.add(a);
        }
        if (!hasOut) {
            kept.addAll(List.of("--out", runDir.toString()));
        }
        return kept;
    }

    /**
     * Waits for the other ranks to end, at most {@code seconds} each after rank 0 has: why one did not end well,
     * or empty when all exited with 0.
     */
    Optional<String> awaitAll(long seconds) throws InterruptedException {
        for (int i = 0; i < processes.size(); i++) {
            Process p = processes.get(i);
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                return Optional.of("rank " + (i + 1) + " did not end within " + seconds + " s of rank 0");
            }
            if (p.exitValue() != 0) {
                return Optional.of("rank " + (i + 1) + " ended with exit code " + p.exitValue());
            }
        }
        return Optional.empty();
    }

    /** Stops the ranks still running: rank 0 ended, and without it they cannot go on. */
    @Override
    public void close() {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
    }

    private static void relay(Process process, String prefix, PrintStream err) {
        Thread relay = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    err.println(prefix + line);
                }
            } catch (IOException ended) {
                // The process is gone; what it wrote has been passed on.
            }
        }, "octet-" + prefix.strip());
        relay.setDaemon(true);
        relay.start();
    }
}
