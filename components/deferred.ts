import * as pulumi from "@pulumi/pulumi";

/**
 * An Output whose value is supplied after the resources that read it are declared. Every
 * node's push needs its peers' keys and addresses, and each node declares its own: pushes read
 * a Deferred that the Fleet resolves once every node exists. pulumi.output lifts an Output
 * inside a Promise with its resources, secrecy and unknown-ness intact, so dependencies and
 * previews stay exact.
 */
export class Deferred<T> {
  readonly output: pulumi.Output<T>;
  private settle: { resolve: (v: pulumi.Input<T>) => void; reject: (e: unknown) => void } = {
    resolve: () => undefined,
    reject: () => undefined,
  };

  constructor() {
    const promise = new Promise<pulumi.Input<T>>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.output = pulumi.output(promise) as unknown as pulumi.Output<T>;
  }

  /**
   * The value as it is: the Output made over the promise lifts it (wrapping an Output here
   * first made two more Outputs per Deferred).
   */
  resolve(value: pulumi.Input<T>): void {
    this.settle.resolve(value);
  }

  reject(error: unknown): void {
    this.settle.reject(error);
  }
}
