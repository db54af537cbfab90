package dev.octet.hf;

import dev.octet.checkpoint.MasterWeights;
import dev.octet.cpu.exec.ForwardLogits;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Writes an Octet model's logits for fixed token ids as a .npy file, for comparison with another implementation
 * (scripts/hf-check.py compares them with transformers):
 * <pre>
 *   java -cp ... dev.octet.hf.ForwardLogitsMain MODEL_DIR TOKENS.txt OUT.npy
 * </pre>
 * MODEL_DIR holds model.octet and weights.safetensors (what {@code octet import hf} writes); TOKENS.txt holds one
 * sequence per line, token ids separated by spaces, all of one length. OUT.npy is float64 [sequences, length, vocab].
 */
public final class ForwardLogitsMain {
    private ForwardLogitsMain() {}

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: ForwardLogitsMain MODEL_DIR TOKENS.txt OUT.npy");
            System.exit(2);
        }
        try {
            Path dir = Path.of(args[0]);
            ModelSpec model = OctetModelFiles.load(dir.resolve(HfImporter.MODEL_FILE));
            ParameterStore params = ParameterStore.zeros(model);
            MasterWeights.load(dir.resolve(HfImporter.WEIGHTS_FILE), params);
            int[][] tokens = readTokens(Path.of(args[1]));
            double[] logits = ForwardLogits.of(model, params, tokens);
            NpyFile.writeFloat64(Path.of(args[2]), logits, tokens.length, tokens[0].length, model.config().vocab());
            System.out.printf("logits of %s: %d x %d x %d -> %s%n", model.name(), tokens.length, tokens[0].length,
                    model.config().vocab(), args[2]);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    static int[][] readTokens(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
        int[][] out = new int[lines.size()][];
        for (int i = 0; i < out.length; i++) {
            try {
                out[i] = Arrays.stream(lines.get(i).split("\\s+")).mapToInt(Integer::parseInt).toArray();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": line " + (i + 1) + " is not token ids separated by spaces");
            }
        }
        if (out.length == 0) {
            throw new IllegalArgumentException(file + ": no token sequences");
        }
        return out;
    }
}
