package dev.octet.compiler.emit;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.FieldSpec;
import com.palantir.javapoet.JavaFile;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.ParameterizedTypeName;
import com.palantir.javapoet.TypeSpec;
import dev.octet.compiler.cuda.LaunchGeometry;
import dev.octet.compiler.ir.Parameter;
import dev.octet.compiler.ir.Phase;
import dev.octet.compiler.ir.StepShape;
import dev.octet.compiler.ir.Value;
import dev.octet.compiler.plan.Argument;
import dev.octet.compiler.plan.KernelPlan;
import dev.octet.compiler.plan.Launch;
import dev.octet.compiler.plan.MemoryPlan;
import dev.octet.compiler.plan.StepPlan;
import dev.octet.compiler.step.ArenaArg;
import dev.octet.compiler.step.BufferHandle;
import dev.octet.compiler.step.ParameterHandle;
import dev.octet.compiler.step.StepRuntime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import javax.lang.model.element.Modifier;

/**
 * Emits a compiled step as a Java class (JavaPoet): constants of its shape and arena, a typed handle for
 * every parameter and host-visible buffer, the kernel names, and {@code forward}, {@code backward},
 * {@code optimizer} and {@code step} methods that issue the plan's launches over a {@link StepRuntime}.
 * Launches are split into methods of at most {@value #LAUNCHES_PER_METHOD} so large models stay under the
 * JVM's 64 KB method limit.
 */
public final class JavaStepEmitter {
    public static final int LAUNCHES_PER_METHOD = 200;
    private static final int PARAMETERS_PER_METHOD = 40;
    private static final ClassName RUNTIME = ClassName.get(StepRuntime.class);

    private JavaStepEmitter() {}

    /** {@code tiny} + {@code infir2} → {@code TinyInfir2Step}. */
    public static String className(StepShape shape) {
        StringBuilder sb = new StringBuilder();
        for (String part : (shape.model() + "_" + shape.recipe()).split("[^A-Za-z0-9]+")) {
            if (!part.isEmpty()) {
                sb.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        if (sb.isEmpty() || !Character.isJavaIdentifierStart(sb.charAt(0))) {
            sb.insert(0, "Model");
        }
        return sb.append("Step").toString();
    }

    public static JavaFile emit(StepPlan plan, String packageName, String origin) {
        KernelPlan kp = plan.kernels();
        MemoryPlan mem = plan.memory();
        StepShape s = kp.fused().graph().shape();
        TypeSpec.Builder type = TypeSpec.classBuilder(className(s))
                .addModifiers(Modifier.PUBLIC, Modifier.FINAL)
                .addJavadoc("The training step of model $L with recipe $L, $L x $L tokens per micro-batch, compiled by Octet from $L.\n"
                        + "Generated code: do not edit; change the model or the compiler instead.\n", s.model(), s.recipe(),
                        s.batch(), s.seq(), origin)
                .addMethod(MethodSpec.constructorBuilder().addModifiers(Modifier.PRIVATE).build());
        constant(type, "MODEL", String.class, CodeBlock.of("$S", s.model()));
        constant(type, "RECIPE", String.class, CodeBlock.of("$S", s.recipe()));
        constant(type, "BATCH", int.class, CodeBlock.of("$L", s.batch()));
        constant(type, "SEQ", int.class, CodeBlock.of("$L", s.seq()));
        constant(type, "ACCUMULATION", int.class, CodeBlock.of("$L", s.accumulation()));
        constant(type, "ARENA_BYTES", long.class, CodeBlock.of("$LL", mem.arenaBytes()));
        constant(type, "PERSISTENT_BYTES", long.class, CodeBlock.of("$LL", mem.persistentBytes()));
        constant(type, "FLOPS_PER_STEP", double.class, CodeBlock.of("$L", String.format(Locale.ROOT, "%.6e", plan.flopsPerStep())));

        Set<String> used = new HashSet<>(List.of("MODEL", "RECIPE", "BATCH", "SEQ", "ACCUMULATION", "ARENA_BYTES",
                "PERSISTENT_BYTES", "FLOPS_PER_STEP", "PARAMETERS", "KERNELS"));
        // Handles are built in chunked methods, and fields read them from the list: a static initializer
        // that built every handle itself would pass the JVM's 64 KB limit for the larger models.
        List<Parameter> parameters = kp.fused().graph().parameters();
        List<String> chunks = new ArrayList<>();
        for (int from = 0; from < parameters.size(); from += PARAMETERS_PER_METHOD) {
            String name = "parameters" + chunks.size();
            CodeBlock.Builder list = CodeBlock.builder().add("return $T.of(\n", List.class).indent();
            List<Parameter> chunk = parameters.subList(from, Math.min(parameters.size(), from + PARAMETERS_PER_METHOD));
            for (int i = 0; i < chunk.size(); i++) {
                Parameter p = chunk.get(i);
                list.add("new $T($S, $L, $L, $L, $L, $L, $L)$L\n", ParameterHandle.class, p.name(), p.decays(),
                        handle(p.master(), mem), optionalHandle(p.shadow(), mem), handle(p.gradient(), mem), handle(p.m(), mem),
                        handle(p.v(), mem), i + 1 < chunk.size() ? "," : "");
            }
            type.addMethod(MethodSpec.methodBuilder(name).addModifiers(Modifier.PRIVATE, Modifier.STATIC)
                    .returns(ParameterizedTypeName.get(List.class, ParameterHandle.class))
                    .addCode(list.unindent().add(");\n").build()).build());
            chunks.add(name + "()");
        }
        type.addField(FieldSpec.builder(ParameterizedTypeName.get(List.class, ParameterHandle.class), "PARAMETERS",
                        Modifier.PUBLIC, Modifier.STATIC, Modifier.FINAL)
                .addJavadoc("Every trainable parameter, in the order of the model's parameter table.\n")
                .initializer("$T.of($L).flatMap($T::stream).toList()", java.util.stream.Stream.class,
                        String.join(", ", chunks), List.class)
                .build());
        for (int i = 0; i < parameters.size(); i++) {
            Parameter p = parameters.get(i);
            type.addField(FieldSpec.builder(ParameterHandle.class, unique(fieldName(p.name()), used), Modifier.PUBLIC,
                            Modifier.STATIC, Modifier.FINAL)
                    .addJavadoc("Parameter $L $L.\n", p.name(), p.master().type().shape())
                    .initializer("PARAMETERS.get($L)", i).build());
        }
        for (Value v : kp.buffers()) {
            if (v.storage() == dev.octet.compiler.ir.Storage.INPUT || v.storage() == dev.octet.compiler.ir.Storage.OUTPUT) {
                type.addField(FieldSpec.builder(BufferHandle.class, unique(fieldName(v.name()), used), Modifier.PUBLIC,
                                Modifier.STATIC, Modifier.FINAL)
                        .addJavadoc("$L $L, written by the $L.\n", v.storage() == dev.octet.compiler.ir.Storage.INPUT ? "Input"
                                : "Output", v.type(), v.storage() == dev.octet.compiler.ir.Storage.INPUT ? "host" : "step")
                        .initializer("$L", handle(v, mem)).build());
            }
        }
        type.addField(FieldSpec.builder(ParameterizedTypeName.get(List.class, String.class), "KERNELS", Modifier.PUBLIC,
                        Modifier.STATIC, Modifier.FINAL)
                .addJavadoc("Kernel names in order of first launch; sources are kernels/NAME.cu.\n")
                .initializer("$T.of($L)", List.class, String.join(", ",
                        plan.distinctKernels().keySet().stream().map(n -> "\"" + n + "\"").toList()))
                .build());
        for (Phase phase : Phase.values()) {
            phaseMethods(type, plan, phase);
        }
        type.addMethod(MethodSpec.methodBuilder("step")
                .addModifiers(Modifier.PUBLIC, Modifier.STATIC)
                .addJavadoc("One optimizer step: forward and backward for each of the $L micro-batches, then the optimizer.\n",
                        s.accumulation())
                .addParameter(RUNTIME, "rt")
                .beginControlFlow("for (int i = 0; i < ACCUMULATION; i++)")
                .addStatement("rt.beginMicroBatch(i)")
                .addStatement("forward(rt)")
                .addStatement("backward(rt)")
                .endControlFlow()
                .addStatement("optimizer(rt)")
                .build());
        return JavaFile.builder(packageName, type.build()).skipJavaLangImports(true).indent("    ").build();
    }

    private static void phaseMethods(TypeSpec.Builder type, StepPlan plan, Phase phase) {
        List<Launch> launches = plan.launches(phase);
        MethodSpec.Builder entry = MethodSpec.methodBuilder(phase.lowerName())
                .addModifiers(Modifier.PUBLIC, Modifier.STATIC)
                .addJavadoc("The $L launches of the $L phase, in order.\n", launches.size(), phase.lowerName())
                .addParameter(RUNTIME, "rt");
        for (int part = 0; part * LAUNCHES_PER_METHOD < launches.size(); part++) {
            String name = phase.lowerName() + part;
            MethodSpec.Builder m = MethodSpec.methodBuilder(name).addModifiers(Modifier.PRIVATE, Modifier.STATIC)
                    .addParameter(RUNTIME, "rt");
            for (Launch l : launches.subList(part * LAUNCHES_PER_METHOD,
                    Math.min(launches.size(), (part + 1) * LAUNCHES_PER_METHOD))) {
                m.addStatement(launchStatement(l, plan));
            }
            type.addMethod(m.build());
            entry.addStatement("$L(rt)", name);
        }
        type.addMethod(entry.build());
    }

    private static CodeBlock launchStatement(Launch l, StepPlan plan) {
        LaunchGeometry g = l.kernel().launch();
        CodeBlock.Builder args = CodeBlock.builder();
        for (Argument a : l.args()) {
            switch (a) {
                case Argument.Buffer b -> args.add(", $T.offset($LL)", ArenaArg.class, plan.memory().offset(b.value()) + b.byteOffset());
                case Argument.Scalar s -> args.add(s.dtype() == dev.octet.compiler.ir.DType.I32
                        ? CodeBlock.of(", $T.i32($L)", ArenaArg.class, (int) s.value())
                        : CodeBlock.of(", $T.f32($Lf)", ArenaArg.class, (float) s.value()));
            }
        }
        return CodeBlock.of("rt.launch($S, new $T($L, $L, $L, $L, $L, $L, $L)$L)", l.kernel().name(), LaunchGeometry.class,
                g.gridX(), g.gridY(), g.gridZ(), g.blockX(), g.blockY(), g.blockZ(), g.sharedBytes(), args.build());
    }

    private static CodeBlock handle(Value v, MemoryPlan mem) {
        return CodeBlock.of("new $T($S, $S, $T.of($L), $S, $LL, $LL)", BufferHandle.class, v.name(), v.type().dtype().irName(),
                List.class, String.join(", ", v.type().shape().stream().map(String::valueOf).toList()),
                v.storage().name().toLowerCase(Locale.ROOT), mem.offset(v), v.type().bytes());
    }

    private static CodeBlock optionalHandle(Optional<Value> v, MemoryPlan mem) {
        return v.map(s -> CodeBlock.of("$T.of($L)", Optional.class, handle(s, mem)))
                .orElse(CodeBlock.of("$T.empty()", Optional.class));
    }

    private static void constant(TypeSpec.Builder type, String name, Class<?> t, CodeBlock value) {
        type.addField(FieldSpec.builder(t, name, Modifier.PUBLIC, Modifier.STATIC, Modifier.FINAL).initializer(value).build());
    }

    /** {@code layers.0.attention.q.weight} → {@code LAYERS_0_ATTENTION_Q_WEIGHT}. */
    static String fieldName(String irName) {
        String f = irName.replaceAll("[^A-Za-z0-9]+", "_").toUpperCase(Locale.ROOT);
        return Character.isJavaIdentifierStart(f.charAt(0)) ? f : "_" + f;
    }

    private static String unique(String name, Set<String> used) {
        String n = name;
        for (int i = 2; !used.add(n); i++) {
            n = name + "_" + i;
        }
        return n;
    }
}
