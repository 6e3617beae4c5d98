/**
 * Smart-home M2M twin: a room's heating controller on BACnet/IP (the simulated BACnet device):
 * Analog Input 0 room temperature (°C, COV), Analog Value 1 setpoint (commandable), Binary
 * Output 2 the boiler's heating valve (commandable, priority array). The room cools towards the
 * outdoor temperature while the valve is shut and warms while it is open, so a thermostat rule
 * on the platform keeps it around the setpoint by writing the valve.
 */
import { ObjectType } from '@bacnet-js/client';
import { enumerated, real, SimDevice } from '../bacnet/device.js';

export interface HeatingOptions {
  readonly deviceId?: number;
  readonly startTemp?: number;
  readonly setpoint?: number;
  readonly stepMs?: number;
}

export interface HeatingController {
  readonly device: SimDevice;
  /** "ip:port" of the device. */
  readonly address: string;
  readonly deviceId: number;
  roomTemp(): number;
  valveOpen(): boolean;
  close(): void;
}

export async function startHeatingController(options: HeatingOptions = {}): Promise<HeatingController> {
  const deviceId = options.deviceId ?? 3001;
  let temp = options.startTemp ?? 18;
  const device = await SimDevice.start({
    deviceId,
    name: 'Living room heating',
    objects: [
      { type: ObjectType.ANALOG_INPUT, instance: 0, name: 'Room Temp', value: real(temp), units: 62 },
      { type: ObjectType.ANALOG_VALUE, instance: 1, name: 'Setpoint', value: real(options.setpoint ?? 21), commandable: true, units: 62 },
      { type: ObjectType.BINARY_OUTPUT, instance: 2, name: 'Heating Valve', value: enumerated(0), commandable: true },
    ],
  });
  const valveOpen = (): boolean => device.get(ObjectType.BINARY_OUTPUT, 2)?.value.value === 1;
  const timer = setInterval(() => {
    // Open valve: +0.3 °C per step; shut: the room loses 0.1 °C per step (cold outside).
    temp = Math.round((temp + (valveOpen() ? 0.3 : -0.1)) * 10) / 10;
    device.set(ObjectType.ANALOG_INPUT, 0, real(temp));
  }, options.stepMs ?? 1000);
  timer.unref();
  return {
    device,
    address: device.address,
    deviceId,
    roomTemp: () => temp,
    valveOpen,
    close() {
      clearInterval(timer);
      device.stop();
    },
  };
}
