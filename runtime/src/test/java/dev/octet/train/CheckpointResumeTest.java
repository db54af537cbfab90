package dev.octet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.checkpoint.CheckpointDirectory;
import dev.octet.checkpoint.CheckpointException;
import dev.octet.checkpoint.CheckpointMetadata;
import dev.octet.checkpoint.SafetensorsFile;
import dev.octet.checkpoint.TensorNames;
import dev.octet.data.BatchSampler;
import dev.octet.data.BatchSource;
import dev.octet.data.TokenDataset;
import dev.octet.data.TrainingData;
import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.packing.PackedTrainingData;
import dev.octet.data.packing.ShuffledSampler;
import dev.octet.data.packing.TokenStreamSequences;
import dev.octet.data.sft.ChatMlTemplate;
import dev.octet.data.sft.ConversationRecords;
import dev.octet.data.sft.PackedConversations;
import dev.octet.data.sft.RenderedSample;
import dev.octet.data.tokenfile.TokenFile;
import dev.octet.data.tokenfile.TokenFileBuilder;
import dev.octet.data.tokenizer.TinyTokenizerJson;
import dev.octet.data.tokenizer.Tokenizer;
import dev.octet.data.tokenizer.Tokenizers;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.testing.ExampleText;
import dev.octet.testing.ModelSources;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A run stopped and resumed from its checkpoint continues bit for bit as the uninterrupted run, on every kind
 * of training data: a text corpus, a token file and conversations.
 */
class CheckpointResumeTest {
    private static final int STEPS = 6;
    private static final int SEQ_LEN = 64;
    private static final String SOURCE = ModelSources.SMALL + ModelSources.llama("wider", 512, 256, 256, 2, 2, 128, 1, 64)
            + ModelSources.INFIR2 + """
            recipe delayed {
              granularity = tensor  scale = fp32  scaling = delayed(history = 4, margin = 0)  format = e4m3
              bf16 = [embedding, lm_head, attention_core, norm]
            }
            training run {
              model = small  recipe = infir2
              optimizer = adamw(lr = 3e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1)
              schedule = cosine(warmup = 2, min_lr = 3e-4)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 4  seq_len = 64  steps = 6  seed = 5
            }
            """;

    private static Program program;
    private static TokenDataset data;
    private static PackedTrainingData tokenFile;
    private static PackedTrainingData conversations;

    @BeforeAll
    static void load(@TempDir Path dir) throws IOException {
        program = ModelSources.load(dir, SOURCE);
        data = ExampleText.brown(512);
        Path tokenizer = TinyTokenizerJson.write(dir, true);
        tokenFile = tokenFile(dir, tokenizer);
        conversations = conversations(dir, tokenizer);
    }

    /** Short documents of a word-level tokenizer's words, as 'octet data tokenize' writes them. */
    private static PackedTrainingData tokenFile(Path dir, Path tokenizerJson) throws IOException {
        Path text = Files.writeString(dir.resolve("words.txt"), "hello world! how are you?\n\n\nfine.\n\n\n".repeat(100));
        Path tok = dir.resolve("words.tok");
        try (Tokenizer tokenizer = Tokenizers.open(tokenizerJson.toString())) {
            TokenFileBuilder.build(List.of(text), tokenizer, tok, BadRecordPolicy.STOP, bytesRead -> {});
        }
        return new PackedTrainingData(new TokenStreamSequences(TokenFile.open(tok), SEQ_LEN));
    }

    /** Conversations rendered with ChatML and packed, as octet train reads a .jsonl file with mode = sft. */
    private static PackedTrainingData conversations(Path dir, Path tokenizerJson) throws IOException {
        List<String> replies = List.of("hi!", "fine.", "hello world!", "fine, how are you?");
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            jsonl.append("{\"messages\":[{\"role\":\"user\",\"content\":\"").append(i % 3 == 0 ? "hello" : "how are you?")
                    .append("\"},{\"role\":\"assistant\",\"content\":\"").append(replies.get(i % replies.size())).append("\"}]}\n");
        }
        Path file = Files.writeString(dir.resolve("chat.jsonl"), jsonl);
        try (Tokenizer tokenizer = Tokenizers.open(tokenizerJson.toString())) {
            ChatMlTemplate template = new ChatMlTemplate(tokenizer);
            List<RenderedSample> samples = ConversationRecords.read(file, BadRecordPolicy.STOP).values().stream()
                    .map(template::render).toList();
            return new PackedTrainingData(PackedConversations.pack(samples, SEQ_LEN, tokenizer.endOfDocumentId()));
        }
    }

    private static TrainingResult train(String model, String recipe, TrainingOptions options) throws IOException {
        return train(model, recipe, data, options);
    }

    private static TrainingResult train(String model, String recipe, TrainingData on, TrainingOptions options)
            throws IOException {
        return CpuTrainer.train(program.model(model).orElseThrow(), program.recipe(recipe).orElseThrow(),
                program.trainings().getFirst(), on, options);
    }

    private static TrainingOptions options(Path run) {
        return new TrainingOptions(STEPS, run, 1, 1, false).withCheckpointing(Checkpointing.every(0, 2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"infir2", "delayed"})
    void stoppedAfterThreeStepsAndResumedEqualsSixStepsBitForBit(String recipe, @TempDir Path dir) throws IOException {
        Path whole = dir.resolve("whole");
        Path split = dir.resolve("split");
        TrainingResult uninterrupted = train("small", recipe, options(whole));

        TrainingResult first = train("small", recipe, options(split).stoppingWhen(done -> done == 3));
        assertTrue(first.stopped());
        assertTrue(first.validationLoss().isEmpty());
        assertEquals(3, first.completedSteps());
        Path checkpoint = first.checkpoint().orElseThrow();
        assertEquals(CheckpointDirectory.of(split, 2).fileFor(3), checkpoint);
        CheckpointMetadata saved = CpuTrainer.checkpointFor(checkpoint, program.model("small").orElseThrow());
        assertEquals(3, saved.step());
        assertEquals(3, saved.optimizerSteps());
        assertEquals(STEPS, saved.totalSteps());
        assertEquals(BatchSampler.KIND, saved.dataPosition().get(BatchSource.SAMPLER));
        assertEquals("6", saved.dataPosition().get("next_batch"), "two micro-batches per step");
        assertEquals(recipe, saved.recipe());

        TrainingResult second = train("small", recipe, options(split).resumingFrom(checkpoint));
        assertEquals(6, second.completedSteps());

        List<Double> resumed = new java.util.ArrayList<>(first.losses());
        resumed.addAll(second.losses());
        assertEquals(uninterrupted.losses(), resumed, "losses step for step, to the last bit");
        assertEquals(uninterrupted.validationLoss(), second.validationLoss());

        // metrics.jsonl was appended to, and holds the same lines as the uninterrupted run's, timings aside.
        assertEquals(withoutTimings(whole), withoutTimings(split));

        // The final states agree to the last bit, moments and amax histories included.
        assertSameTensors(uninterrupted.checkpoint().orElseThrow(), second.checkpoint().orElseThrow());
        try (SafetensorsFile a = SafetensorsFile.open(uninterrupted.checkpoint().orElseThrow())) {
            assertEquals(recipe.equals("delayed"), a.names().stream().anyMatch(n -> n.startsWith("fp8.amax_history.")));
            assertTrue(a.names().contains(TensorNames.adamV("layers.0.attention.q.weight")), a.names().toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"token file", "conversations"})
    void packedSequencesResumeAtTheExactSequenceBitForBit(String kind, @TempDir Path dir) throws IOException {
        PackedTrainingData on = kind.equals("token file") ? tokenFile : conversations;
        long trainSequences = on.train().sequenceCount();
        // Four sequences a step: the stop falls inside the first epoch, and the resumed run crosses into the second.
        assertTrue(12 < trainSequences && trainSequences < 4 * STEPS, trainSequences + " training sequences");
        Path whole = dir.resolve("whole");
        Path split = dir.resolve("split");
        TrainingResult uninterrupted = train("small", "infir2", on, options(whole));

        TrainingResult first = train("small", "infir2", on, options(split).stoppingWhen(done -> done == 3));
        CheckpointMetadata saved = CpuTrainer.checkpointFor(first.checkpoint().orElseThrow(), program.model("small").orElseThrow());
        assertEquals(ShuffledSampler.KIND, saved.dataPosition().get(BatchSource.SAMPLER));
        assertEquals("0", saved.dataPosition().get("epoch"));
        assertEquals("12", saved.dataPosition().get("position"), "three steps of two micro-batches of two sequences");
        assertEquals(Long.toString(trainSequences), saved.dataPosition().get("sequence_count"));

        TrainingResult second = train("small", "infir2", on, options(split).resumingFrom(first.checkpoint().orElseThrow()));
        List<Double> resumed = new java.util.ArrayList<>(first.losses());
        resumed.addAll(second.losses());
        assertEquals(uninterrupted.losses(), resumed, "losses step for step, to the last bit");
        assertEquals(uninterrupted.validationLoss(), second.validationLoss());
        assertEquals(withoutTimings(whole), withoutTimings(split));
        assertSameTensors(uninterrupted.checkpoint().orElseThrow(), second.checkpoint().orElseThrow());
    }

    @Test
    void aCheckpointOfAnotherKindOfDataIsRefused(@TempDir Path dir) throws IOException {
        Path checkpoint = train("small", "infir2", options(dir).stoppingWhen(done -> done == 1)).checkpoint().orElseThrow();
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> train("small", "infir2", tokenFile, options(dir).resumingFrom(checkpoint)));
        assertTrue(e.getMessage().startsWith(checkpoint + ": its data position does not fit"), e.getMessage());
        assertTrue(e.getMessage().contains("of a random_windows sampler, not of a shuffled_sequences sampler"), e.getMessage());
    }

    @Test
    void aCheckpointOfAnotherModelIsRefusedNamingBoth(@TempDir Path dir) throws IOException {
        TrainingResult run = train("small", "infir2", options(dir).stoppingWhen(done -> done == 1));
        Path checkpoint = run.checkpoint().orElseThrow();
        ModelSpec wider = program.model("wider").orElseThrow();
        CheckpointException e = assertThrows(CheckpointException.class, () -> CpuTrainer.checkpointFor(checkpoint, wider));
        assertTrue(e.getMessage().startsWith(checkpoint + ": was written for model small"), e.getMessage());
        assertTrue(e.getMessage().contains("not for model wider"), e.getMessage());
        assertThrows(CheckpointException.class, () -> train("wider", "infir2", options(dir).resumingFrom(checkpoint)));
    }

    @Test
    void resumingAFinishedRunIsRefused(@TempDir Path dir) throws IOException {
        TrainingResult run = train("small", "infir2", new TrainingOptions(2, dir, 1, 1, false)
                .withCheckpointing(Checkpointing.every(1, 1)));
        Path last = run.checkpoint().orElseThrow();
        assertEquals(List.of(2L), CheckpointDirectory.of(dir, 1).entries().stream().map(CheckpointDirectory.Entry::step).toList());
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> train("small", "infir2", new TrainingOptions(2, dir, 1, 1, false).resumingFrom(last)));
        assertTrue(e.getMessage().contains("already completed 2 of 2 steps"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    /** What a device load streams from a checkpoint, tensor by tensor, is what the host load holds. */
    @Test
    void aStreamedCheckpointHandsOverTheLoadedMasterWeights(@TempDir Path dir) throws IOException {
        TrainingResult run = train("small", "infir2", options(dir));
        Path file = run.checkpoint().orElseThrow();
        ModelSpec model = program.model("small").orElseThrow();
        ParameterStore loaded = CheckpointWeights.load(file, model).params();
        CheckpointWeights.Streamed streamed = CheckpointWeights.stream(file, model);
        assertEquals(CheckpointWeights.load(file, model).metadata().step(), streamed.metadata().step());
        List<String> seen = new java.util.ArrayList<>();
        streamed.weights().each((param, values) -> {
            seen.add(param.name());
            assertArrayEquals(loaded.get(param.name()).master(), values.toArray(
                    java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN)), param.name());
        });
        assertEquals(loaded.entries().stream().map(e -> e.param().name()).toList(), seen);
        // Another model's checkpoint is refused before anything is read.
        assertThrows(dev.octet.checkpoint.CheckpointException.class,
                () -> CheckpointWeights.stream(file, program.model("wider").orElseThrow()));
    }

    private static void assertSameTensors(Path expected, Path actual) throws IOException {
        try (SafetensorsFile a = SafetensorsFile.open(expected); SafetensorsFile b = SafetensorsFile.open(actual)) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                assertArrayEquals(a.bytes(name), b.bytes(name), name);
            }
        }
    }

    private static List<JsonObject> withoutTimings(Path run) throws IOException {
        List<JsonObject> lines = MetricsLog.read(run.resolve(MetricsLog.FILE_NAME));
        for (JsonObject line : lines) {
            line.remove("tokens_per_s");
            line.remove("elapsed_s");
            line.remove("heap_mb"); // like the timings, depends on the machine and the moment
        }
        return lines;
    }
}
