package dev.octet.dsl;

/** Small valid sources that tests change one thing in. */
final class Sources {
    private Sources() {}

    static final String FORWARD = """
              forward {
                x = embedding(tokens)
                repeat layers {
                  x = x + attention(rmsnorm(x))
                  x = x + swiglu(rmsnorm(x))
                }
                logits = lm_head(rmsnorm(x))
                loss = cross_entropy(logits, targets)
              }
            }
            """;

    static final String SETTINGS = """
              vocab = 256
              dim = 64
              ffn = 128
              heads = 4
              layers = 2
              max_seq = 64
            """;

    /** {@code model m} with the given settings on lines 2, 3, ... and a valid forward block after them. */
    static String model(String settings) {
        return "model m {\n" + settings.stripTrailing() + "\n" + FORWARD;
    }

    /** {@code model m} with valid settings (lines 2-7) and the given forward body from line 9 on. */
    static String modelWithForward(String body) {
        return "model m {\n" + SETTINGS + "  forward {\n" + body.stripTrailing() + "\n  }\n}\n";
    }

    /** A valid model; 17 lines. */
    static final String MODEL = model(SETTINGS);
}
