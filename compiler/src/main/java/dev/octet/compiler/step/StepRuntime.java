package dev.octet.compiler.step;

import dev.octet.compiler.cuda.LaunchGeometry;

/**
 * What a compiled step runs on. Generated step classes call {@link #launch} for every kernel in plan order;
 * a GPU runtime enqueues it on its stream (and captures the step into a CUDA graph), a recorder lists it.
 */
public interface StepRuntime {
    /** Launches the kernel named {@code kernel} (source: kernels/NAME.cu) with the given arguments in order. */
    void launch(String kernel, LaunchGeometry geometry, ArenaArg... args);

    /** Called before each micro-batch's forward pass: the host writes that micro-batch's inputs. */
    default void beginMicroBatch(int index) {}
}
