import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.nio.file.Path;

/**
 * `helm lint --strict` of a chart (its default values), then `helm template`, for its tests: prints the rendered manifests, or
 * the lint's messages and exits 1. Arguments: chart directory, release name, namespace, then any
 * values files. Run as a single-file program: java -cp <helm-java classpath> HelmTemplate.java …
 */
public class HelmTemplate {
  public static void main(String[] args) {
    Path chart = Path.of(args[0]);
    Helm helm = new Helm(chart);
    // helm-java's lint takes the chart's own values only: the rendering below takes the files.
    LintResult linted = helm.lint().strict().call();
    if (linted.isFailed()) {
      linted.getMessages().forEach(System.err::println);
      System.exit(1);
    }
    TemplateCommand template = helm.template().withName(args[1]).withNamespace(args[2]);
    for (int index = 3; index < args.length; index++) template = template.withValuesFile(Path.of(args[index]));
    System.out.print(template.call());
  }
}
