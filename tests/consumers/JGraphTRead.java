// Reads a GraphML file with JGraphT 1.5.2's GraphMLImporter, schema validation on, into a
// directed multigraph, and prints nodes and edges (source, type, target) as JSON.
// Usage: java JGraphTRead FILE.graphml
import java.io.FileReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jgrapht.Graph;
import org.jgrapht.graph.DefaultEdge;
import org.jgrapht.graph.builder.GraphTypeBuilder;
import org.jgrapht.nio.graphml.GraphMLImporter;

public class JGraphTRead {
    public static void main(String[] args) throws Exception {
        Graph<String, DefaultEdge> g = GraphTypeBuilder.<String, DefaultEdge>directed()
            .allowingMultipleEdges(true).allowingSelfLoops(true)
            .edgeClass(DefaultEdge.class).weighted(false).buildGraph();
        GraphMLImporter<String, DefaultEdge> importer = new GraphMLImporter<>();
        importer.setSchemaValidation(true);
        importer.setVertexFactory(id -> id);
        Map<DefaultEdge, String> types = new LinkedHashMap<>();
        Map<String, Integer> nodeValues = new LinkedHashMap<>();
        importer.addEdgeAttributeConsumer((p, a) -> {
            if (p.getSecond().equals("type")) types.put(p.getFirst(), a.getValue());
        });
        importer.addVertexAttributeConsumer((p, a) -> nodeValues.merge(p.getSecond(), 1, Integer::sum));
        try (Reader r = new FileReader(args[0], StandardCharsets.UTF_8)) {
            importer.importGraph(g, r);
        }
        StringBuilder out = new StringBuilder("{\"nodes\": [");
        String sep = "";
        for (String v : g.vertexSet()) {
            out.append(sep).append(Json.str(v));
            sep = ", ";
        }
        out.append("], \"edges\": [");
        sep = "";
        for (DefaultEdge e : g.edgeSet()) {
            out.append(sep).append("[").append(Json.str(g.getEdgeSource(e))).append(", ")
               .append(Json.str(types.get(e))).append(", ").append(Json.str(g.getEdgeTarget(e))).append("]");
            sep = ", ";
        }
        out.append("], \"node_attribute_values\": {");
        sep = "";
        for (Map.Entry<String, Integer> en : nodeValues.entrySet()) {
            out.append(sep).append(Json.str(en.getKey())).append(": ").append(en.getValue());
            sep = ", ";
        }
        out.append("}}");
        System.out.println(out);
    }
}
