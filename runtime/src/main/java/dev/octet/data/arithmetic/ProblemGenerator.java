package dev.octet.data.arithmetic;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Draws arithmetic word problems from a seeded random source: a starting count (or a number of boxes of
 * equal size), then up to two more steps of buying, losing, doubling or tripling, phrased in one of a few
 * sentence shapes. Every count stays between 0 and a few hundred: subtraction never takes more than there
 * is, and doubling or tripling only applies to small counts, so the answers are short digit strings.
 */
public final class ProblemGenerator {

    private record Person(String name, String pronoun) {}

    private static final List<Person> PEOPLE = List.of(new Person("Tom", "he"), new Person("Anna", "she"),
            new Person("Ben", "he"), new Person("Lucy", "she"), new Person("Sam", "he"), new Person("Mia", "she"),
            new Person("Leo", "he"), new Person("Emma", "she"), new Person("Max", "he"), new Person("Zoe", "she"));
    private static final List<String> OBJECTS = List.of("apples", "pencils", "coins", "stickers", "marbles", "books",
            "cookies", "stamps", "shells", "cards");
    private static final List<String> CONTAINERS = List.of("boxes", "bags", "packs", "jars");
    private static final List<String> STARTS = List.of("%s has %d %s", "%s starts with %d %s", "%s collects %d %s");
    private static final List<String> GROUP_STARTS = List.of("%s has %d %s with %d %s in each",
            "%s buys %d %s of %s with %d in each");
    private static final List<String> ADDS = List.of("buys %d more", "finds %d more", "gets %d more from a friend",
            "is given %d more");
    private static final List<String> SUBTRACTS = List.of("gives away %d", "loses %d", "sells %d", "uses %d");
    private static final String DOUBLES = "doubles them";
    private static final String TRIPLES = "triples them";
    private static final List<String> QUESTIONS = List.of("How many %s does %s have now?", "How many %s does %s have?",
            "How many %s are there in the end?");
    private static final List<String> CONNECTIVES = List.of("Then", "After that");

    private static final int MAX_START = 40;
    private static final int MAX_OPERAND = 40;
    private static final int MAX_GROUP = 9;
    private static final int MAX_MULTIPLIED = 100;

    private final SplittableRandom random;

    public ProblemGenerator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    public ArithmeticProblem next() {
        Person person = pick(PEOPLE);
        String object = pick(OBJECTS);
        int stepCount = 1 + random.nextInt(3);
        List<ArithmeticProblem.Step> steps = new ArrayList<>();
        List<String> phrases = new ArrayList<>();
        String opening;
        int start;
        if (random.nextInt(4) == 0) { // a number of boxes of equal size: the first step multiplies
            start = 2 + random.nextInt(MAX_GROUP - 1);
            int each = 2 + random.nextInt(MAX_GROUP - 1);
            String container = pick(CONTAINERS);
            opening = random.nextBoolean()
                    ? GROUP_STARTS.get(0).formatted(person.name(), start, container, each, object)
                    : GROUP_STARTS.get(1).formatted(person.name(), start, container, object, each);
            steps.add(new ArithmeticProblem.Step(Operation.MULTIPLY, each));
        } else {
            start = 1 + random.nextInt(MAX_START);
            opening = pick(STARTS).formatted(person.name(), start, object);
        }
        int value = steps.isEmpty() ? start : start * steps.getFirst().operand();
        while (steps.size() < stepCount) {
            int kind = random.nextInt(20);
            ArithmeticProblem.Step step;
            String phrase;
            if (kind < 3 && value <= MAX_MULTIPLIED) {
                int factor = random.nextBoolean() ? 2 : 3;
                step = new ArithmeticProblem.Step(Operation.MULTIPLY, factor);
                phrase = factor == 2 ? DOUBLES : TRIPLES;
            } else if (kind < 11 && value > 0) {
                int operand = 1 + random.nextInt(Math.min(value, MAX_OPERAND));
                step = new ArithmeticProblem.Step(Operation.SUBTRACT, operand);
                phrase = pick(SUBTRACTS).formatted(operand);
            } else {
                int operand = 1 + random.nextInt(MAX_OPERAND);
                step = new ArithmeticProblem.Step(Operation.ADD, operand);
                phrase = pick(ADDS).formatted(operand);
            }
            steps.add(step);
            phrases.add(phrase);
            value = step.operation().apply(value, step.operand());
        }
        String question = pick(QUESTIONS).formatted(object, random.nextBoolean() ? person.pronoun() : person.name());
        return new ArithmeticProblem(narrate(person, opening, phrases) + " " + question, start, steps);
    }

    /** The story: one sentence with "and ... then ...", or one sentence per step. */
    private String narrate(Person person, String opening, List<String> phrases) {
        if (phrases.isEmpty()) {
            return opening + ".";
        }
        StringBuilder s = new StringBuilder(opening);
        if (random.nextBoolean()) {
            s.append(" and ").append(phrases.getFirst());
            for (String p : phrases.subList(1, phrases.size())) {
                s.append(", then ").append(p);
            }
            return s.append('.').toString();
        }
        String pronoun = Character.toUpperCase(person.pronoun().charAt(0)) + person.pronoun().substring(1);
        s.append(". ").append(pronoun).append(' ').append(phrases.getFirst()).append('.');
        for (String p : phrases.subList(1, phrases.size())) {
            s.append(' ').append(pick(CONNECTIVES)).append(' ').append(person.pronoun()).append(' ').append(p).append('.');
        }
        return s.toString();
    }

    private <T> T pick(List<T> options) {
        return options.get(random.nextInt(options.size()));
    }

    /** Every fixed piece of text a problem can contain: what the task's tokenizer must cover. */
    public static List<String> phrasebook() {
        return Stream.of(PEOPLE.stream().flatMap(p -> Stream.of(p.name(), p.pronoun())), OBJECTS.stream(),
                        CONTAINERS.stream(), STARTS.stream(), GROUP_STARTS.stream(), ADDS.stream(), SUBTRACTS.stream(),
                        Stream.of(DOUBLES, TRIPLES, " and , then .", "He She"), QUESTIONS.stream(), CONNECTIVES.stream())
                .flatMap(s -> s).toList();
    }
}
