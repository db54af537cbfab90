package dev.octet.data;

import java.util.Map;

/** An endless supply of training batches. */
public interface BatchSource {

    /** The key of {@link #position()} that names the kind of sampler, so one kind never reads another's position. */
    String SAMPLER = "sampler";

    Batch next();

    /**
     * Where this source stands, as named decimal strings plus {@link #SAMPLER}: what
     * {@link TrainingData#resumeTrainBatches} needs to continue at exactly the batch {@link #next()} would
     * give now. A checkpoint stores it as is.
     */
    Map<String, String> position();
}
