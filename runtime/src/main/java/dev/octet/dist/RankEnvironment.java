package dev.octet.dist;

import java.util.Map;

/**
 * Where this process stands among the processes of one data-parallel run: its rank, how many ranks there are,
 * its GPU on its host, and where rank 0 listens for the others (the rendezvous). Read from the environment
 * variables launchers such as torchrun and Slurm scripts set: {@code RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_RANK}, {@code MASTER_ADDR}, {@code MASTER_PORT}. With none of them set, the run is one process.
 */
public record RankEnvironment(int rank, int worldSize, int localRank, String masterAddress, int masterPort) {
    public static final String RANK = "RANK", WORLD_SIZE = "WORLD_SIZE", LOCAL_RANK = "LOCAL_RANK",
            MASTER_ADDR = "MASTER_ADDR", MASTER_PORT = "MASTER_PORT";
    /** torchrun's default port, used when MASTER_PORT is not set. */
    public static final int DEFAULT_PORT = 29500;

    public RankEnvironment {
        if (worldSize < 1) {
            throw new IllegalArgumentException(WORLD_SIZE + " must be at least 1, not " + worldSize);
        }
        if (rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException(RANK + "=" + rank + " is not one of 0.." + (worldSize - 1)
                    + " (" + WORLD_SIZE + "=" + worldSize + ")");
        }
        if (localRank < 0) {
            throw new IllegalArgumentException(LOCAL_RANK + " must be 0 or more, not " + localRank);
        }
        if (masterPort < 1 || masterPort > 65535) {
            throw new IllegalArgumentException(MASTER_PORT + " must be a TCP port (1..65535), not " + masterPort);
        }
        if (masterAddress == null || masterAddress.isBlank()) {
            throw new IllegalArgumentException(MASTER_ADDR + " must name rank 0's host");
        }
    }

    /** A run of one process. */
    public static RankEnvironment single() {
        return new RankEnvironment(0, 1, 0, "127.0.0.1", DEFAULT_PORT);
    }

    /**
     * The rank of this process from {@code environment}. RANK and WORLD_SIZE come together or not at all;
     * LOCAL_RANK defaults to RANK (one host), MASTER_ADDR to 127.0.0.1 (one host) and MASTER_PORT to
     * {@value #DEFAULT_PORT}. Malformed values are refused with a line naming the variable.
     */
    public static RankEnvironment from(Map<String, String> environment) {
        boolean hasRank = environment.containsKey(RANK), hasWorld = environment.containsKey(WORLD_SIZE);
        if (!hasRank && !hasWorld) {
            return single();
        }
        if (hasRank != hasWorld) {
            throw new IllegalArgumentException((hasRank ? RANK : WORLD_SIZE) + " is set but " + (hasRank ? WORLD_SIZE : RANK)
                    + " is not: a data-parallel process needs both");
        }
        int rank = integer(environment, RANK);
        int worldSize = integer(environment, WORLD_SIZE);
        int localRank = environment.containsKey(LOCAL_RANK) ? integer(environment, LOCAL_RANK) : rank;
        String address = environment.getOrDefault(MASTER_ADDR, "127.0.0.1");
        int port = environment.containsKey(MASTER_PORT) ? integer(environment, MASTER_PORT) : DEFAULT_PORT;
        return new RankEnvironment(rank, worldSize, localRank, address, port);
    }

    /** This process's environment. */
    public static RankEnvironment fromProcess() {
        return from(System.getenv());
    }

    /** The environment that starts rank {@code rank} of a run of {@code worldSize} processes on this host. */
    public static Map<String, String> forLocalRank(int rank, int worldSize, int port) {
        return Map.of(RANK, Integer.toString(rank), WORLD_SIZE, Integer.toString(worldSize),
                LOCAL_RANK, Integer.toString(rank), MASTER_ADDR, "127.0.0.1", MASTER_PORT, Integer.toString(port));
    }

    public boolean isSingle() {
        return worldSize == 1;
    }

    private static int integer(Map<String, String> environment, String name) {
        String value = environment.get(name).strip();
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + value + " is not a whole number");
        }
    }
}
