package dev.octet.compiler.emit;

import dev.octet.compiler.cuda.CudaKernel;
import dev.octet.compiler.plan.PlanJson;
import dev.octet.compiler.plan.StepPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes a compiled step to a directory: kernels/NAME.cu, plan.json, and java/ with the step class. */
public final class CompileOutput {
    public static final String JAVA_PACKAGE = "dev.octet.generated";

    private CompileOutput() {}

    public record Written(Path kernels, int kernelCount, Path plan, Path java) {}

    public static Written write(Path dir, StepPlan plan) throws IOException {
        Path kernels = dir.resolve("kernels");
        Files.createDirectories(kernels);
        for (CudaKernel k : plan.distinctKernels().values()) {
            writeAtomically(kernels.resolve(k.name() + ".cu"), k.source());
        }
        Path json = dir.resolve("plan.json");
        writeAtomically(json, PlanJson.write(plan));
        Path java = dir.resolve("java");
        JavaStepEmitter.emit(plan, JAVA_PACKAGE, "octet compile").writeTo(java);
        return new Written(kernels, plan.distinctKernels().size(), json, java);
    }

    /** Temp file beside the target, then an atomic rename: a reader never sees half a file. */
    static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
