import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, ConfigError, parseLadderConfig } from "../../stacks/config";

const parse = (values: Record<string, string>, region?: string) => parseLadderConfig(values, region);

/** The message a person sees for a configuration, or undefined when it is accepted. */
function messageFor(values: Record<string, string>, region?: string): string {
  try {
    parse(values, region);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(values)}`);
}

describe("scale-ladder:step", () => {
  it.each(["1", "2", "7", "11"])("accepts %s", (step) => {
    expect(parse({ "scale-ladder:step": step }).step).toBe(Number(step));
  });

  it.each([
    ["12", 'scale-ladder:step must be an integer from 1 to 11, got "12"'],
    ["0", 'scale-ladder:step must be an integer from 1 to 11, got "0"'],
    ["abc", 'scale-ladder:step must be an integer from 1 to 11, got "abc"'],
    ["2.5", 'scale-ladder:step must be an integer from 1 to 11, got "2.5"'],
    ["-3", 'scale-ladder:step must be an integer from 1 to 11, got "-3"'],
  ])("rejects %s naming the key, the value and the range", (step, message) => {
    expect(messageFor({ "scale-ladder:step": step })).toContain(message);
  });

  it("is required, and the message says how to set it", () => {
    expect(messageFor({})).toContain("scale-ladder:step is required: run `pulumi config set scale-ladder:step 1`");
  });

  it("is a RunError, which the Pulumi CLI prints without a stack trace", () => {
    expect(() => parse({ "scale-ladder:step": "12" })).toThrow(pulumi.RunError);
  });
});

describe("the key parsers", () => {
  // Written out in stacks/config.ts (a schema library cost every `pulumi preview` ~50 ms to load); these are the
  // library's rules they keep: numbers and patterns ignore surrounding spaces, a choice is taken exactly as set.
  it("trim integers, patterns and paths, and split lists", () => {
    const config = parse({
      "scale-ladder:step": " 3 ",
      "scale-ladder:alarmEmail": " ops@example.com ",
      "scale-ladder:artifactPath": " dist/shop.tgz ",
      "scale-ladder:availabilityZoneNames": "us-east-1a,us-east-1c",
      "scale-ladder:logRetentionDays": "14",
    });
    expect(config.step).toBe(3);
    expect(CONFIG_KEYS.alarmEmail.parse(" ops@example.com ")).toEqual({ ok: true, value: "ops@example.com" });
    expect(CONFIG_KEYS.artifactPath.parse(" dist/shop.tgz ")).toEqual({ ok: true, value: "dist/shop.tgz" });
    expect(CONFIG_KEYS.availabilityZoneNames.parse("us-east-1a,us-east-1c")).toEqual({
      ok: true,
      value: ["us-east-1a", "us-east-1c"],
    });
    expect(CONFIG_KEYS.logRetentionDays.parse("14")).toEqual({ ok: true, value: 14 });
  });

  it("take a choice only as set, and refuse what trims to nothing", () => {
    expect(messageFor({ "scale-ladder:step": "3", "scale-ladder:environment": " prod" })).toContain(
      'scale-ladder:environment must be one of dev, prod, got " prod"',
    );
    expect(messageFor({ "scale-ladder:step": "3", "scale-ladder:artifactPath": "  " })).toContain(
      'scale-ladder:artifactPath must be a file path, got "  "',
    );
    expect(CONFIG_KEYS.logRetentionDays.parse("15")).toEqual({
      ok: false,
      message: "must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365",
    });
  });
});

describe("other keys", () => {
  it("rejects a value outside an enum, listing the allowed values", () => {
    expect(messageFor({ "scale-ladder:step": "2", "scale-ladder:environment": "staging" })).toContain(
      'scale-ladder:environment must be one of dev, prod, got "staging"',
    );
    expect(messageFor({ "scale-ladder:step": "3", "scale-ladder:natGateways": "Many" })).toContain(
      'scale-ladder:natGateways must be one of None, Single, OnePerAz, got "Many"',
    );
  });

  it("rejects an unknown key (a typo must not silently fall back to a default)", () => {
    expect(messageFor({ "scale-ladder:step": "2", "scale-ladder:enviroment": "prod" })).toContain(
      "scale-ladder:enviroment is not a known key",
    );
  });

  it("reports every problem at once", () => {
    const message = messageFor({
      "scale-ladder:step": "99",
      "scale-ladder:dbBackupRetentionDays": "1",
      "scale-ladder:dbMultiAz": "yes",
    });
    expect(message).toContain("scale-ladder:step must be");
    expect(message).toContain('scale-ladder:dbBackupRetentionDays must be an integer from 7 to 35, got "1"');
    expect(message).toContain('scale-ladder:dbMultiAz must be true or false, got "yes"');
  });

  it("needs domain and hostedZoneId together", () => {
    expect(messageFor({ "scale-ladder:step": "1", "scale-ladder:domain": "shop.example.com" })).toContain(
      "domain and scale-ladder:hostedZoneId go together",
    );
    const cfg = parse({
      "scale-ladder:step": "1",
      "scale-ladder:domain": "shop.example.com",
      "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ",
    });
    expect(cfg.dns).toEqual({ domain: "shop.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" });
  });

  it("rejects malformed names, CIDRs and classes", () => {
    expect(
      messageFor({
        "scale-ladder:step": "1",
        "scale-ladder:domain": "Shop..example",
        "scale-ladder:hostedZoneId": "Z1",
      }),
    ).toContain("scale-ladder:domain must be a lowercase DNS name");
    expect(messageFor({ "scale-ladder:step": "1", "scale-ladder:vpcCidr": "10.0.0.0/8" })).toContain(
      "scale-ladder:vpcCidr must be an IPv4 CIDR from /16 to /20",
    );
    expect(messageFor({ "scale-ladder:step": "2", "scale-ladder:dbInstanceClass": "t4g.micro" })).toContain(
      "scale-ladder:dbInstanceClass must be an RDS instance class",
    );
    expect(
      messageFor({
        "scale-ladder:step": "2",
        "scale-ladder:dbMaxAllocatedStorageGb": "30",
        "scale-ladder:dbAllocatedStorageGb": "50",
      }),
    ).toContain(
      "scale-ladder:dbMaxAllocatedStorageGb must be at least 10% above dbAllocatedStorageGb (50), so 55 or " +
        "more, got 30",
    );
  });

  it("refuses a fleet step without NAT egress", () => {
    expect(messageFor({ "scale-ladder:step": "3", "scale-ladder:natGateways": "None" })).toContain(
      "scale-ladder:natGateways must be Single or OnePerAz from step 3",
    );
  });

  it("validates aws:region", () => {
    expect(messageFor({ "scale-ladder:step": "1" }, "mars-north-1a")).toContain(
      'aws:region must be an AWS region such as us-east-1, got "mars-north-1a"',
    );
  });
});

describe("per-step defaults", () => {
  it("are cheap at the bottom of the ladder and safe in prod", () => {
    const step1 = parse({ "scale-ladder:step": "1" });
    expect(step1).toMatchObject({
      environment: "dev",
      region: "us-east-1",
      network: { natGateways: "None", availabilityZones: 2, cidr: "10.0.0.0/16" },
    });
    expect(step1.database.multiAz).toBe(false);
    expect(parse({ "scale-ladder:step": "3" }).network.natGateways).toBe("Single");
    expect(parse({ "scale-ladder:step": "3", "scale-ladder:environment": "prod" }).network.natGateways).toBe(
      "OnePerAz",
    );
    expect(parse({ "scale-ladder:step": "2" }).database.multiAz).toBe(false);
    expect(parse({ "scale-ladder:step": "2", "scale-ladder:environment": "prod" }).database.multiAz).toBe(true);
    expect(parse({ "scale-ladder:step": "4" }).database.multiAz).toBe(true);
  });

  it("yield to explicit values", () => {
    const cfg = parse({
      "scale-ladder:step": "4",
      "scale-ladder:dbMultiAz": "false",
      "scale-ladder:availabilityZones": "3",
    });
    expect(cfg.database.multiAz).toBe(false);
    expect(cfg.network.availabilityZones).toBe(3);
  });

  it("compose only the steps this version builds", () => {
    expect(parse({ "scale-ladder:step": "2" }).builtStep).toBe(2);
    const cfg = parse({ "scale-ladder:step": "9" });
    expect(cfg.step).toBe(9);
    expect(cfg.builtStep).toBeLessThanOrEqual(9);
  });

  it("document every key", () => {
    for (const [name, spec] of Object.entries(CONFIG_KEYS))
      expect({ name, doc: spec.doc.length > 10 }).toEqual({ name, doc: true });
  });
});
