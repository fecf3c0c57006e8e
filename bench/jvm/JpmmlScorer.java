import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jpmml.evaluator.Evaluator;
import org.jpmml.evaluator.EvaluatorUtil;
import org.jpmml.evaluator.LoadingModelEvaluatorBuilder;
import org.jpmml.evaluator.OutputField;

/**
 * JPMML-Evaluator on one PMML file, as a JPMML user scores: evaluate(Map) per row, the
 * probability output fields read from its results. Compiled only when bench/bench_jvm.py finds
 * JPMML's jars (the jpmml_evaluator package ships them); JPMML is AGPL-3.0 and stays an anchor
 * of the benchmark, never a dependency of jvm/.
 */
public final class JpmmlScorer implements JvmBench.Scorer {
    private final Evaluator evaluator;
    private final List<String> outputs;

    public JpmmlScorer(Path pmml, List<String> outputs) throws Exception {
        evaluator = new LoadingModelEvaluatorBuilder().load(pmml.toFile()).build();
        if (outputs.isEmpty()) {  // a file crossform did not write: its probability output fields, in file order
            outputs = new ArrayList<>();
            for (OutputField f : evaluator.getOutputFields()) {
                if (f.getName().startsWith("probability(")) outputs.add(f.getName());
            }
        }
        this.outputs = outputs;
    }

    @Override
    public double[] one(Map<String, Object> row) throws JvmBench.Skip {
        Map<String, ?> results = evaluator.evaluate(row);
        double[] out = new double[outputs.size()];
        for (int j = 0; j < out.length; j++) {
            Object v = EvaluatorUtil.decode(results.get(outputs.get(j)));
            if (!(v instanceof Number)) throw new JvmBench.Skip("JPMML gave no " + outputs.get(j) + " (found " + v + ")");
            out[j] = ((Number) v).doubleValue();
        }
        return out;
    }

    @Override
    public void all(double[][] columns, List<Map<String, Object>> rows, double[] out) throws JvmBench.Skip {
        int k = outputs.size();
        for (int r = 0; r < rows.size(); r++) System.arraycopy(one(rows.get(r)), 0, out, r * k, k);
    }
}
