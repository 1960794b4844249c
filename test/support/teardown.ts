/**
 * Clean-up steps registered as each resource comes up, so `after()` closes exactly what `before()`
 * managed to open: a set-up that failed half-way neither leaks a server (which would keep the test
 * process alive) nor makes the teardown throw on a resource that was never assigned.
 */
export interface Teardown {
  add(step: () => unknown): void
  /** Runs every step, last registered first, even when one fails; then throws the failures together. */
  run(): Promise<void>
}

export function createTeardown(): Teardown {
  const steps: Array<() => unknown> = []
  return {
    add(step) {
      steps.push(step)
    },
    async run() {
      const failures: unknown[] = []
      for (const step of steps.splice(0).reverse()) {
        try {
          await step()
        } catch (error) {
          failures.push(error)
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, `${failures.length} teardown step(s) failed`)
    },
  }
}
