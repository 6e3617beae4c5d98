import { createMemoryStore } from '../../../src/adapters/store/memory/index.js';
import { storeContract } from './contract.js';

storeContract('memory', () => createMemoryStore());
