package dev.octet.compiler;

import dev.octet.dsl.spec.Program;
import org.junit.jupiter.api.Test;

class LoweringSmokeTest {
    @Test
    void printsTiny() {
        Program p = ExamplePrograms.load("tiny.octet");
        var t = ExamplePrograms.training(p);
        Lowering.fused(p.model(t.model()).orElseThrow(), p.recipe(t.recipe().orElseThrow()).orElseThrow(), t,
                (name, text) -> { if (name.equals("fuse")) System.out.println(text); });
    }
}
