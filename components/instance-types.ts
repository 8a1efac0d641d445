/**
 * Instance-type facts shared by the EC2 components.
 */

/** Graviton families carry a "g" after the generation digit: t4g, m7g, c7gn, r8g... */
const GRAVITON = /^[a-z]+\d+g[a-z]*\./;

/** The CPU architecture an instance type runs, as AMI parameter names spell it. */
export function architectureOf(instanceType: string): "arm64" | "x86_64" {
  return GRAVITON.test(instanceType) ? "arm64" : "x86_64";
}

/** The public SSM parameter that always names the latest Amazon Linux 2023 AMI for an architecture. */
export function al2023AmiParameter(instanceType: string): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architectureOf(instanceType)}`;
}

export const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
