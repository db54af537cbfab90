package dev.octet.cli;

import dev.octet.train.StopCondition;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Turns Ctrl-C and SIGTERM into "stop after the current step": a JVM shutdown hook (portable, unlike
 * sun.misc.Signal) raises the flag the trainer checks after each step, then holds the JVM open until the
 * trainer has written its checkpoint and returned. A second Ctrl-C does not cut this short; only SIGKILL
 * does, and then the previous checkpoint is still whole, because checkpoints are replaced atomically.
 */
final class GracefulStop implements StopCondition, AutoCloseable {
    private final AtomicBoolean requested = new AtomicBoolean();
    private final CountDownLatch trainerDone = new CountDownLatch(1);
    private final Thread hook = new Thread(this::stopAndWait, "octet-graceful-stop");

    private GracefulStop() {}

    static GracefulStop install() {
        GracefulStop stop = new GracefulStop();
        Runtime.getRuntime().addShutdownHook(stop.hook);
        return stop;
    }

    @Override
    public boolean shouldStop(long completedSteps) {
        return requested.get();
    }

    private void stopAndWait() {
        requested.set(true);
        System.err.println();
        System.err.println("octet: stopping after the current step to write a checkpoint");
        try {
            trainerDone.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The trainer returned (or failed): let a pending shutdown go on, or drop the hook if none is under way. */
    @Override
    public void close() {
        trainerDone.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running and now returns.
        }
    }
}
