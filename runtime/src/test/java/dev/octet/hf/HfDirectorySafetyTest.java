package dev.octet.hf;

import dev.octet.testing.ConsoleCapture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.octet.checkpoint.AtomicDirectory;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.cli.ExitCodes;
import dev.octet.cli.OctetMain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export and import never lose or mix a user's files: a directory that holds a model is replaced only with
 * --force and then as a whole set (no old shard survives, config keys Octet does not own are kept), an export
 * never writes where it reads, and two un-indexed weights files with the same tensor are refused.
 */
class HfDirectorySafetyTest {
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @TempDir
    Path dir;

    private static Map<String, byte[]> contents(Path d) throws IOException {
        Map<String, byte[]> all = new TreeMap<>();
        try (Stream<Path> files = Files.list(d)) {
            for (Path f : files.toList()) {
                all.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return all;
    }

    /** A sharded Llama directory as a user keeps it: with a tokenizer, generation settings and extra config keys. */
    private Path userDirectory() throws IOException {
        Path hf = HfCheckpointFixture.llamaTied(5).writeBf16Shards(dir.resolve("user-model"));
        JsonObject config = JsonParser.parseString(Files.readString(hf.resolve("config.json"))).getAsJsonObject();
        config.addProperty("eos_token_id", 7);
        config.addProperty("my_note", "keep me");
        config.addProperty("sliding_window", 4096);
        Files.writeString(hf.resolve("config.json"), config.toString());
        Files.writeString(hf.resolve("generation_config.json"), "{\"temperature\": 0.6, \"top_p\": 0.9, \"do_sample\": true}\n");
        Files.writeString(hf.resolve("tokenizer.json"), "{\"model\": {}}\n");
        return hf;
    }

    private Path importedQwen() throws IOException {
        Path imported = dir.resolve("imported");
        HfImporter.run(HfCheckpointFixture.qwen2(9).writeSingleFile(dir.resolve("qwen-hf")), imported, "qwen_tiny");
        return imported;
    }

    @Test
    void exportIntoADirectoryHoldingAModelIsRefusedWithoutForce() throws IOException {
        Path user = userDirectory();
        Map<String, byte[]> before = contents(user);
        int code = OctetMain.run("export", "hf", importedQwen().toString(), "--out", user.toString());
        assertEquals(ExitCodes.USAGE, code);
        String message = console.err().strip();
        assertEquals(user + ": error: already holds a model (config.json and 3 more); choose another --out, or --force"
                + " to replace its weights and config", message);
        Map<String, byte[]> after = contents(user);
        assertEquals(before.keySet(), after.keySet());
        before.forEach((name, bytes) -> assertArrayEquals(bytes, after.get(name), name));
    }

    @Test
    void forceReplacesTheWholeSetAndKeepsWhatOctetDoesNotOwn() throws IOException {
        Path user = userDirectory();
        byte[] generation = Files.readAllBytes(user.resolve("generation_config.json"));
        Path imported = importedQwen();
        assertEquals(ExitCodes.OK, OctetMain.run("export", "hf", imported.toString(), "--out", user.toString(), "--dtype", "f32",
                "--force"), console.err());

        assertEquals(List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json"),
                List.copyOf(contents(user).keySet()), "old shards and their index are gone");
        assertArrayEquals(generation, Files.readAllBytes(user.resolve("generation_config.json")));
        JsonObject config = JsonParser.parseString(Files.readString(user.resolve("config.json"))).getAsJsonObject();
        assertEquals(7, config.get("eos_token_id").getAsInt());
        assertEquals("keep me", config.get("my_note").getAsString());
        assertFalse(config.has("sliding_window"), "a key that changes the computation is not carried over");
        assertEquals("Qwen2ForCausalLM", config.getAsJsonArray("architectures").get(0).getAsString());
        try (Stream<Path> siblings = Files.list(dir)) {
            assertTrue(siblings.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no staging directory is left");
        }

        Path again = dir.resolve("again");
        assertEquals(ExitCodes.OK, OctetMain.run("import", "hf", user.toString(), "--out", again.toString()), console.err());
        try (SafetensorsFile a = SafetensorsFile.open(imported.resolve(HfImporter.WEIGHTS_FILE));
             SafetensorsFile b = SafetensorsFile.open(again.resolve(HfImporter.WEIGHTS_FILE))) {
            for (String name : a.names()) {
                assertArrayEquals(a.floats(name), b.floats(name), name + ": the new weights are read, not the old shards'");
            }
        }
    }

    @Test
    void anExportNeverWritesIntoTheDirectoryItReads() throws IOException {
        Path imported = importedQwen();
        Map<String, byte[]> before = contents(imported);
        assertEquals(ExitCodes.USAGE, OctetMain.run("export", "hf", imported.toString(), "--out", imported.toString(), "--force"));
        String message = console.err().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith(imported + ": error: holds "), message);
        assertEquals(before.keySet(), contents(imported).keySet());

        console.resetErr();
        assertEquals(ExitCodes.USAGE, OctetMain.run("import", "hf", dir.resolve("qwen-hf").toString(), "--out",
                dir.resolve("qwen-hf").toString()));
        assertTrue(console.err().contains("is the Hugging Face directory being imported"), console.err());

        console.resetErr();
        assertEquals(ExitCodes.USAGE, OctetMain.run("import", "hf", dir.resolve("qwen-hf").toString(), "--out", imported.toString()));
        assertEquals(imported + ": error: already holds a model (model.octet or weights.safetensors); choose another --out",
                console.err().strip());
        assertEquals(before.keySet(), contents(imported).keySet());
    }

    @Test
    void twoUnindexedWeightFilesWithTheSameTensorAreRefused() throws IOException {
        Path hf = HfCheckpointFixture.qwen2(4).writeSingleFile(dir.resolve("two"));
        Files.copy(hf.resolve("model.safetensors"), hf.resolve("model-finetuned.safetensors"));
        int code = OctetMain.run("import", "hf", hf.toString(), "--out", dir.resolve("o").toString());
        assertEquals(ExitCodes.INVALID_INPUT, code);
        String message = console.err().strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.matches("error: " + java.util.regex.Pattern.quote(hf.toString()) + ": tensor \\S+ is in both "
                + "model-finetuned.safetensors and model.safetensors, and no model.safetensors.index.json says which to read;"
                + " remove one of them"), message);
        assertFalse(Files.exists(dir.resolve("o")));
    }

    @Test
    void aFailedReplacementLeavesTheDirectoryAsItWas() throws IOException {
        Path target = Files.createDirectories(dir.resolve("target"));
        Files.writeString(target.resolve("a.txt"), "old a");
        Files.writeString(target.resolve("b.txt"), "old b");
        assertThrows(IOException.class, () -> AtomicDirectory.replace(target, p -> true, staging -> {
            Files.writeString(staging.resolve("a.txt.new"), "half");
            throw new IOException("disk full");
        }));
        assertEquals(Map.of("a.txt", "old a", "b.txt", "old b"), text(target));
        try (Stream<Path> siblings = Files.list(dir)) {
            assertEquals(List.of(target), siblings.toList(), "the staging directory is removed");
        }
        IOException here = assertThrows(IOException.class, () -> AtomicDirectory.replace(Path.of("."), p -> true, staging -> {}));
        assertEquals(".: is the working directory or holds it; run from outside it to replace its contents", here.getMessage());
        AtomicDirectory.replace(target, p -> p.getFileName().toString().equals("b.txt"),
                staging -> Files.writeString(staging.resolve("c.txt"), "new c"));
        assertEquals(Map.of("b.txt", "old b", "c.txt", "new c"), text(target));
    }

    private static Map<String, String> text(Path d) throws IOException {
        Map<String, String> all = new TreeMap<>();
        for (Map.Entry<String, byte[]> e : contents(d).entrySet()) {
            all.put(e.getKey(), new String(e.getValue(), java.nio.charset.StandardCharsets.UTF_8));
        }
        return all;
    }
}
