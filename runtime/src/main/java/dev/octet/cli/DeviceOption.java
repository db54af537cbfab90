package dev.octet.cli;

import dev.octet.gpu.CudaAvailability;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine;

/**
 * {@code --device} of {@code octet train} and {@code octet eval}: where the work runs. {@code auto} (the default) takes the GPU when the driver
 * probe finds one, else the CPU with a one-line note; {@code cuda} without a GPU is an error, not a silent
 * fallback, so a run meant for the GPU never quietly takes days on the CPU.
 */
enum DeviceOption {
    CPU, CUDA, AUTO;

    /** The device a run uses, or why it cannot run. */
    sealed interface Choice {
        /** @param note why the CPU was chosen when the GPU was asked for with auto */
        record Cpu(Optional<String> note) implements Choice {}

        record Cuda(CudaAvailability.Available device) implements Choice {}

        record Refused(String error) implements Choice {}
    }

    static DeviceOption parse(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("--device must be cpu, cuda or auto, not '" + text + "'");
        };
    }

    /**
     * Parses {@code text} and decides, probing the driver only when a GPU could be used (the probe dlopens it);
     * {@code activity} ("training", "decoding") names what falls back to the CPU in the note.
     */
    static Choice resolve(String text, String activity) {
        DeviceOption asked = parse(text);
        return asked.choose(asked == CPU ? new CudaAvailability.Unavailable("not asked for") : CudaAvailability.probe(),
                activity);
    }

    /**
     * {@link #resolve} for a command: a bad value is a usage error; a refusal is printed and comes back empty
     * (exit with INVALID_INPUT); the note of a fall-back to the CPU is printed.
     */
    static Optional<Choice> forCommand(CommandLine.Model.CommandSpec spec, String text, String activity) {
        Choice choice;
        try {
            choice = resolve(text, activity);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (choice instanceof Choice.Refused refused) {
            System.err.println(refused.error());
            return Optional.empty();
        }
        if (choice instanceof Choice.Cpu cpu) {
            cpu.note().ifPresent(System.out::println);
        }
        return Optional.of(choice);
    }

    /** Decides with what the probe saw; does not touch the device. */
    Choice choose(CudaAvailability probe, String activity) {
        return switch (this) {
            case CPU -> new Choice.Cpu(Optional.empty());
            case CUDA -> switch (probe) {
                case CudaAvailability.Available a -> new Choice.Cuda(a);
                case CudaAvailability.Unavailable u -> new Choice.Refused("error: --device cuda: " + u.reason());
            };
            case AUTO -> switch (probe) {
                case CudaAvailability.Available a -> new Choice.Cuda(a);
                case CudaAvailability.Unavailable u ->
                        new Choice.Cpu(Optional.of("octet: no CUDA device (" + u.reason() + "); " + activity + " on the CPU"));
            };
        };
    }
}
