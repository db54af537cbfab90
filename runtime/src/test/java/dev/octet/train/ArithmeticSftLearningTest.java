package dev.octet.train;

import dev.octet.testing.ModelSources;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.cpu.decode.CpuDecodeStep;
import dev.octet.cpu.decode.IncrementalForward;
import dev.octet.cpu.exec.GraphInterpreter;
import dev.octet.cpu.exec.ParameterStore;
import dev.octet.cpu.exec.RecipeLinearPolicy;
import dev.octet.cpu.exec.TokenBatch;
import dev.octet.cpu.ops.Rounding;
import dev.octet.data.arithmetic.ArithmeticTask;
import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.packing.PackedTrainingData;
import dev.octet.data.sft.ChatMlTemplate;
import dev.octet.data.sft.Conversation;
import dev.octet.data.sft.ConversationRecords;
import dev.octet.data.sft.PackedConversations;
import dev.octet.data.sft.RenderedSample;
import dev.octet.data.tokenizer.HuggingFaceJsonTokenizer;
import dev.octet.dsl.spec.ModelSpec;
import dev.octet.dsl.spec.Program;
import dev.octet.dsl.spec.RecipeSpec;
import dev.octet.dsl.spec.TrainingSpec;
import dev.octet.eval.AnswerReport;
import dev.octet.eval.FinalAnswerEval;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SFT on the generated arithmetic task teaches a tiny model: on held-out problems, the share of assistant tokens
 * it predicts right (teacher-forced, argmax) rises from about zero to most of them, and its greedy answers
 * (KV-cache decoding, exact match on the final number) do not get worse. A run this short learns the
 * format and the copying of numbers; the sums themselves take longer (docs/results.md has a full run).
 */
class ArithmeticSftLearningTest {
    private static final String SOURCE = """
            model tiny_arith {
              vocab = 192  dim = 64  ffn = 128  heads = 2  kv_heads = 2  head_dim = 32  layers = 2  max_seq = 128
              tie_embeddings = true
              forward {
                x = embedding(tokens)
                repeat layers {
                  x = x + attention(rmsnorm(x), rope = true)
                  x = x + swiglu(rmsnorm(x))
                }
                logits = lm_head(rmsnorm(x))
                loss = cross_entropy(logits, targets)
              }
            }
            recipe bf16 { bf16 = all }
            training sft {
              model = tiny_arith  recipe = bf16  mode = sft
              optimizer = adamw(lr = 5e-3, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.0)
              schedule = cosine(warmup = 10, min_lr = 5e-4)
              clip_grad_norm = 1.0  micro_batch = 2  global_batch = 2  seq_len = 128  steps = 400  seed = 3
            }
            """;

    @Test
    void sftRaisesHeldOutAnswerAccuracy(@TempDir Path dir) throws IOException {
        Program program = ModelSources.load(dir, SOURCE);
        ModelSpec model = program.model("tiny_arith").orElseThrow();
        RecipeSpec recipe = program.recipe("bf16").orElseThrow();
        TrainingSpec spec = program.trainings().getFirst();
        ArithmeticTask.Written task = ArithmeticTask.write(dir.resolve("data"), 5, 4000, 40);
        try (HuggingFaceJsonTokenizer tokenizer = HuggingFaceJsonTokenizer.load(task.tokenizer())) {
            ChatMlTemplate template = new ChatMlTemplate(tokenizer);
            List<RenderedSample> train = ConversationRecords.read(task.train(), BadRecordPolicy.STOP).values().stream()
                    .map(template::render).toList();
            List<Conversation> test = ConversationRecords.read(task.test(), BadRecordPolicy.STOP).values();
            PackedTrainingData data = new PackedTrainingData(PackedConversations.pack(train, spec.seqLen(), tokenizer.endOfDocumentId()));

            ParameterStore initial = ParameterStore.initialize(model, spec.seed());
            initial.refreshWorking(Rounding.GPU);
            double tokensBefore = assistantTokenAccuracy(model, recipe, initial, template, test);
            AnswerReport before = exactMatch(model, recipe, initial, tokenizer, test);

            TrainingOptions options = new TrainingOptions(spec.steps(), dir.resolve("run"), 50, 2, false)
                    .withCheckpointing(Checkpointing.every(0, 1));
            TrainingResult result = CpuTrainer.train(model, recipe, spec, data, options);
            ParameterStore trained = CheckpointWeights.load(CheckpointWeights.resolve(dir.resolve("run")), model).params();
            trained.refreshWorking(Rounding.GPU);
            double tokensAfter = assistantTokenAccuracy(model, recipe, trained, template, test);
            AnswerReport after = exactMatch(model, recipe, trained, tokenizer, test);

            System.out.printf("loss %.3f -> %.3f; assistant-token accuracy %.3f -> %.3f; exact match %d/%d -> %d/%d%n",
                    result.first(), result.finalMean(), tokensBefore, tokensAfter, before.correct(), before.conversations(),
                    after.correct(), after.conversations());
            after.examples().stream().limit(3).forEach(e -> System.out.println("  " + e.question() + " -> " + e.generated()));
            assertTrue(tokensBefore < 0.05, "untrained: " + tokensBefore);
            assertTrue(tokensAfter > 0.5, "trained: " + tokensAfter);
            assertTrue(after.correct() >= before.correct(), "exact match " + before.correct() + " -> " + after.correct());
        }
    }

    /** Teacher-forced: the share of loss-masked (assistant) tokens whose argmax prediction is the next token. */
    private static double assistantTokenAccuracy(ModelSpec model, RecipeSpec recipe, ParameterStore params,
                                                 ChatMlTemplate template, List<Conversation> conversations) {
        GraphInterpreter forward = new GraphInterpreter(model, params, new RecipeLinearPolicy(recipe, model.config().layers()), Rounding.GPU);
        int vocab = model.config().vocab();
        long right = 0;
        long counted = 0;
        for (Conversation c : conversations) {
            RenderedSample s = template.render(c);
            int n = s.length() - 1;
            int[] tokens = s.tokens();
            boolean[] learned = s.lossTokens();
            double[] logits = forward.logits(new TokenBatch(1, n, java.util.Arrays.copyOf(tokens, n), new int[n], new int[n], new double[n]));
            for (int t = 0; t < n; t++) {
                if (learned[t + 1]) {
                    counted++;
                    int best = t * vocab;
                    for (int i = t * vocab + 1; i < (t + 1) * vocab; i++) {
                        best = logits[i] > logits[best] ? i : best;
                    }
                    right += best - t * vocab == tokens[t + 1] ? 1 : 0;
                }
            }
        }
        return (double) right / counted;
    }

    private static AnswerReport exactMatch(ModelSpec model, RecipeSpec recipe, ParameterStore params,
                                           HuggingFaceJsonTokenizer tokenizer, List<Conversation> test) {
        RecipeLinearPolicy policy = new RecipeLinearPolicy(recipe, model.config().layers());
        try (CpuDecodeStep step = new CpuDecodeStep(1, model.config().maxSeq(), model.config().vocab(),
                () -> new IncrementalForward(model, params, policy, Rounding.GPU))) {
            return FinalAnswerEval.run(step, tokenizer, test, 48, e -> {});
        }
    }
}
