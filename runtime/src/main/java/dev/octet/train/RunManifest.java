package dev.octet.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a run directory holds a run of, in {@code RUN_DIR/run.json}: the names a report shows next to its
 * curves. Written when training starts (again on resume, with the same content).
 */
public record RunManifest(String training, String model, String recipe, String recipeDescription, String backend,
                          long steps, long tokensPerStep) {
    public static final String FILE_NAME = "run.json";

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    public void writeTo(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        Path tmp = runDir.resolve(FILE_NAME + ".tmp");
        Files.writeString(tmp, GSON.toJson(this) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, runDir.resolve(FILE_NAME), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The manifest of a run directory; empty when it has none (a run from before manifests) or it is unreadable. */
    public static Optional<RunManifest> readFrom(Path runDir) {
        Path file = runDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            RunManifest m = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), RunManifest.class);
            return m == null || java.util.stream.Stream.of(m.training(), m.model(), m.recipe(), m.recipeDescription(),
                    m.backend()).anyMatch(java.util.Objects::isNull) ? Optional.empty() : Optional.of(m);
        } catch (IOException | JsonParseException e) {
            return Optional.empty();
        }
    }
}
