package dev.octet.compiler.emit;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.FieldSpec;
import com.palantir.javapoet.JavaFile;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.ParameterizedTypeName;
import com.palantir.javapoet.TypeSpec;
import java.util.List;
import javax.lang.model.element.Modifier;

/** Emits {@code GeneratedSteps}: the names of all generated step classes, for tests and tools. */
final class IndexEmitter {
    private IndexEmitter() {}

    static JavaFile emit(String packageName, List<String> classes) {
        CodeBlock.Builder names = CodeBlock.builder();
        for (int i = 0; i < classes.size(); i++) {
            names.add(i == 0 ? "$S" : ", $S", classes.get(i));
        }
        TypeSpec type = TypeSpec.classBuilder("GeneratedSteps")
                .addModifiers(Modifier.PUBLIC, Modifier.FINAL)
                .addJavadoc("Every step class generated from examples/ (model x recipe). Generated: do not edit.\n")
                .addMethod(MethodSpec.constructorBuilder().addModifiers(Modifier.PRIVATE).build())
                .addField(FieldSpec.builder(ParameterizedTypeName.get(List.class, String.class), "CLASSES",
                                Modifier.PUBLIC, Modifier.STATIC, Modifier.FINAL)
                        .addJavadoc("Simple names in package $L; resources under steps/NAME/ (plan.json, kernels/).\n", packageName)
                        .initializer("$T.of($L)", ClassName.get(List.class), names.build()).build())
                .build();
        return JavaFile.builder(packageName, type).indent("    ").build();
    }
}
