/**
 * What every driver promises, run by each driver's test with a factory and the flags
 * that make a valid machine (drivers with an external API pass their faked tool here).
 */
import type { DriverFactory, EngineService, FlagValues } from '../../drivers/driver.js';
import { baseSettings } from '../../drivers/driver.js';
import { MachineError, NotSupportedError } from '../../src/machine/errors.js';
import { MACHINE_STATES } from '../../src/machine/state.js';

export function driverConformance(factory: DriverFactory, validFlags: FlagValues, engine: EngineService): void {
  describe(`driver ${factory.name} conformance`, () => {
    const make = () => factory.fromFlags(baseSettings('conf', '/store', '/store/machines/conf/id_rsa'), validFlags);

    test('flags are prefixed by the driver name, documented, typed, with an env var', () => {
      expect(factory.flags.length).toBeGreaterThan(0);
      for (const f of factory.flags) {
        expect(f.name.startsWith(`${factory.name}-`)).toBe(true);
        expect(f.usage.length).toBeGreaterThan(5);
        expect(['string', 'stringList', 'int', 'bool']).toContain(f.type);
        expect(f.envVar).toMatch(/^[A-Z0-9_]+$/);
      }
    });

    test('settings survive config.json: fromSettings(JSON) gives the same driver', async () => {
      const d = make();
      const again = factory.fromSettings(JSON.parse(JSON.stringify(d.settings)));
      expect(again.name).toBe(factory.name);
      expect(again.settings).toEqual(d.settings);
      expect(await again.ip()).toBe(await d.ip());
      expect(again.connection()).toEqual(d.connection());
      expect(again.enginePort()).toBe(d.enginePort());
    });

    test('required flags are checked with a machine error, not a crash', () => {
      for (const f of factory.flags.filter((x) => x.required)) {
        const flags = { ...validFlags, [f.name]: undefined };
        expect(() => factory.fromFlags(baseSettings('conf', '/store', '/k'), flags)).toThrow(MachineError);
      }
    });

    test('state is one of the machine states; unsupported verbs throw NotSupportedError', async () => {
      const d = make();
      expect(MACHINE_STATES).toContain(await d.state(engine));
      for (const verb of ['start', 'stop', 'restart', 'kill'] as const) {
        try {
          await d[verb](engine);
        } catch (err) {
          expect(err).toBeInstanceOf(NotSupportedError);
        }
      }
    });
  });
}
