package dev.octet.data.arithmetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.data.jsonl.BadRecordPolicy;
import dev.octet.data.sft.ChatMlTemplate;
import dev.octet.data.sft.Conversation;
import dev.octet.data.sft.ConversationRecords;
import dev.octet.data.sft.RenderedSample;
import dev.octet.data.tokenizer.HuggingFaceJsonTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated task: deterministic bytes, disjoint splits, correct worked answers, and a lossless tokenizer. */
class ArithmeticTaskTest {

    @Test
    void sameSeedGivesSameBytesAndAnotherSeedDiffers(@TempDir Path dir) throws IOException {
        ArithmeticTask.write(dir.resolve("a"), 7, 300, 50);
        ArithmeticTask.write(dir.resolve("b"), 7, 300, 50);
        ArithmeticTask.write(dir.resolve("c"), 8, 300, 50);
        for (String f : List.of(ArithmeticTask.TRAIN_FILE, ArithmeticTask.TEST_FILE, ArithmeticTask.TOKENIZER_FILE)) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(f)), Files.readAllBytes(dir.resolve("b").resolve(f)), f);
        }
        assertNotEquals(Files.readString(dir.resolve("a").resolve(ArithmeticTask.TRAIN_FILE)),
                Files.readString(dir.resolve("c").resolve(ArithmeticTask.TRAIN_FILE)));
    }

    @Test
    void splitsShareNoProblemAndAnswersAreRight() {
        ArithmeticTask.Splits s = ArithmeticTask.draw(3, 5000, 500);
        Set<String> trainKeys = s.train().stream().map(ArithmeticProblem::key).collect(Collectors.toSet());
        Set<String> trainQuestions = s.train().stream().map(ArithmeticProblem::question).collect(Collectors.toSet());
        assertEquals(5000, trainKeys.size(), "training problems are distinct");
        for (ArithmeticProblem p : s.test()) {
            assertFalse(trainKeys.contains(p.key()), p.key());
            assertFalse(trainQuestions.contains(p.question()), p.question());
        }
        for (ArithmeticProblem p : s.train()) {
            assertTrue(p.answer() >= 0, p.question());
            assertEquals(p.answer(), FinalAnswer.in(p.solution()).orElseThrow(), p.solution());
            assertTrue(p.steps().size() >= 1 && p.steps().size() <= 3);
        }
        // Every template shape and every operation shows up.
        for (Operation op : Operation.values()) {
            assertTrue(s.train().stream().anyMatch(p -> p.steps().stream().anyMatch(x -> x.operation() == op)), op.name());
        }
        for (int n = 1; n <= 3; n++) {
            int steps = n;
            assertTrue(s.train().stream().anyMatch(p -> p.steps().size() == steps));
        }
    }

    @Test
    void workedAnswerSpellsEachStep() {
        ArithmeticProblem p = new ArithmeticProblem("q", 17, List.of(new ArithmeticProblem.Step(Operation.ADD, 25),
                new ArithmeticProblem.Step(Operation.SUBTRACT, 8)));
        assertEquals("17 + 25 = 42. 42 - 8 = 34. The answer is 34.", p.solution());
        assertEquals("17+25-8", p.key());
        assertEquals(34, FinalAnswer.in("junk. The answer is 3. The answer is 34.").orElseThrow());
        assertTrue(FinalAnswer.in("The answer is .").isEmpty());
    }

    @Test
    void taskTokenizerIsLosslessWithSingleDigitsAndChatMl(@TempDir Path dir) throws IOException {
        ArithmeticTask.Written w = ArithmeticTask.write(dir, 11, 200, 20);
        List<Conversation> conversations = ConversationRecords.read(w.train(), BadRecordPolicy.STOP).values();
        try (HuggingFaceJsonTokenizer t = HuggingFaceJsonTokenizer.load(w.tokenizer())) {
            assertEquals(w.vocabularySize(), t.vocabularySize());
            int unknown = TaskTokenizer.vocabulary().indexOf(TaskTokenizer.UNKNOWN);
            for (Conversation c : conversations) {
                for (var m : c.messages()) {
                    int[] ids = t.encode(m.content());
                    assertEquals(m.content(), t.decode(ids));
                    assertEquals(TaskTokenizer.pieces(m.content()).size(), ids.length, m.content());
                    assertTrue(java.util.Arrays.stream(ids).noneMatch(id -> id == unknown), m.content());
                }
            }
            assertEquals(3, t.encode("342").length);
            assertEquals(List.of("1", "7", " +", " ", "2", "5", " =", " ", "4", "2", "."), TaskTokenizer.pieces("17 + 25 = 42."));
            RenderedSample r = new ChatMlTemplate(t).render(conversations.getFirst());
            assertEquals(ChatMlTemplate.text(conversations.getFirst()), t.decode(r.tokens()));
            assertEquals(t.specialTokenId(TaskTokenizer.END_OF_TEXT).orElseThrow(), t.endOfDocumentId());
        }
    }
}
