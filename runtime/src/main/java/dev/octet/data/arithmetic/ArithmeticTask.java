package dev.octet.data.arithmetic;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.octet.data.sft.ChatRole;
import dev.octet.checkpoint.AtomicFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arithmetic SFT task on disk: {@code train.jsonl} and {@code test.jsonl} (one user/assistant
 * conversation per line) and the task's {@code tokenizer.json}. The same seed and sizes give the same bytes.
 * Problems are drawn from one seeded stream and kept only when their arithmetic ({@link ArithmeticProblem#key})
 * is new; the first {@code test} go to the test split and the next {@code train} to the training split, so no
 * held-out problem is a rewording of a training problem.
 */
public final class ArithmeticTask {
    public static final String TRAIN_FILE = "train.jsonl";
    public static final String TEST_FILE = "test.jsonl";
    public static final String TOKENIZER_FILE = "tokenizer.json";

    /** Where the files went and what they hold. */
    public record Written(Path train, Path test, Path tokenizer, int trainProblems, int testProblems, int vocabularySize) {}

    /** The two splits in memory. */
    public record Splits(List<ArithmeticProblem> train, List<ArithmeticProblem> test) {}

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private ArithmeticTask() {}

    public static Splits draw(long seed, int train, int test) {
        if (train < 0 || test < 0) {
            throw new IllegalArgumentException("split sizes must not be negative: train " + train + ", test " + test);
        }
        ProblemGenerator generator = new ProblemGenerator(seed);
        Set<String> seen = new HashSet<>();
        List<ArithmeticProblem> problems = new ArrayList<>();
        long attempts = 0;
        long limit = 100L * (train + test) + 10_000;
        while (problems.size() < train + test) {
            if (++attempts > limit) {
                throw new IllegalArgumentException("only " + problems.size() + " distinct problems found in " + limit
                        + " draws; ask for fewer than " + (train + test));
            }
            ArithmeticProblem p = generator.next();
            if (seen.add(p.key())) {
                problems.add(p);
            }
        }
        return new Splits(List.copyOf(problems.subList(test, test + train)), List.copyOf(problems.subList(0, test)));
    }

    public static Written write(Path dir, long seed, int train, int test) throws IOException {
        return write(dir, seed, train, test, false);
    }

    /**
     * Writes the three files, each atomically. A file already there with other content (the user's own
     * train.jsonl, or a task of another seed) is refused unless {@code replace}: the same content is written
     * again without asking, so the command can be repeated.
     */
    public static Written write(Path dir, long seed, int train, int test, boolean replace) throws IOException {
        Splits splits = draw(seed, train, test);
        List<String> vocabulary = TaskTokenizer.vocabulary();
        Set<String> known = Set.copyOf(vocabulary);
        Path trainFile = dir.resolve(TRAIN_FILE);
        Path testFile = dir.resolve(TEST_FILE);
        Path tokenizerFile = dir.resolve(TOKENIZER_FILE);
        Map<Path, byte[]> files = new LinkedHashMap<>();
        files.put(trainFile, conversations(splits.train(), known));
        files.put(testFile, conversations(splits.test(), known));
        files.put(tokenizerFile, TaskTokenizer.json(vocabulary).getBytes(StandardCharsets.UTF_8));
        if (!replace) {
            for (Map.Entry<Path, byte[]> f : files.entrySet()) {
                if (Files.exists(f.getKey()) && !Arrays.equals(Files.readAllBytes(f.getKey()), f.getValue())) {
                    throw new FileAlreadyExistsException(f.getKey().toString(), null,
                            "exists with other content; choose another --out, or --force to replace it");
                }
            }
        }
        Files.createDirectories(dir);
        for (Map.Entry<Path, byte[]> f : files.entrySet()) {
            AtomicFile.write(f.getKey(), out -> out.write(ByteBuffer.wrap(f.getValue())));
        }
        return new Written(trainFile, testFile, tokenizerFile, splits.train().size(), splits.test().size(), vocabulary.size());
    }

    /** One JSONL line: {@code {"messages":[{"role":"user",...},{"role":"assistant",...}]}}. */
    public static String conversationJson(ArithmeticProblem p) {
        JsonArray messages = new JsonArray();
        messages.add(message(ChatRole.USER, p.question()));
        messages.add(message(ChatRole.ASSISTANT, p.solution()));
        JsonObject root = new JsonObject();
        root.add("messages", messages);
        return GSON.toJson(root);
    }

    private static JsonObject message(ChatRole role, String content) {
        JsonObject m = new JsonObject();
        m.addProperty("role", role.label());
        m.addProperty("content", content);
        return m;
    }

    private static byte[] conversations(List<ArithmeticProblem> problems, Set<String> vocabulary) {
        StringBuilder out = new StringBuilder();
        for (ArithmeticProblem p : problems) {
            requireCovered(p.question(), vocabulary);
            requireCovered(p.solution(), vocabulary);
            out.append(conversationJson(p)).append('\n');
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A phrase the tokenizer would map to {@code <unk>} is a bug in the phrasebook, caught before anything trains on it. */
    private static void requireCovered(String text, Set<String> vocabulary) {
        for (String piece : TaskTokenizer.pieces(text)) {
            if (!vocabulary.contains(piece)) {
                throw new IllegalStateException("the task tokenizer lacks '" + piece + "' of: " + text);
            }
        }
    }
}
