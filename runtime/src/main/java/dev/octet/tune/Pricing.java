package dev.octet.tune;

import dev.octet.dsl.spec.Gemm;
import dev.octet.dsl.spec.Role;

/** What a candidate costs in speed for an operand role, lower cheaper: how {@link RecipeTuner} orders candidates. */
public interface Pricing {
    double cost(Gemm gemm, Role role, TuneCandidate candidate);

    /** How the costs were found, for the tuned file's header: a sentence fragment. */
    String basis();
}
